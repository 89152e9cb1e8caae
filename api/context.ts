/**
 * What every route module gets: repositories, services and the clock. Built once in app.ts.
 * Also the route-level access rules: every route declares its roles (or `public`), and a
 * resident reaches only their own apartment.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Clock } from '../domain/clock.ts';
import type { PlatformConfig } from '../domain/config.ts';
import { HeatError } from '../domain/errors.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import type { RecordsHealthState } from '../storage/records/records.health.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';
import type { DeadLetter } from '../storage/readings/dead-letter.repository.ts';
import type { AuditRepository } from './audit.repository.ts';
import type { AuthService } from './auth.service.ts';
import type { IncidentsRepository } from './incidents.repository.ts';
import type { OrdersRepository } from './orders.repository.ts';
import type { OrdersService } from './orders.service.ts';
import type { OutagesRepository } from './outages.repository.ts';
import type { PeopleRepository, Person, Role, Session } from './people.repository.ts';
import type { TopologyRepository } from './topology.repository.ts';

/** The dead-letter repository as the API uses it (storage/readings/dead-letter.repository.ts). */
export interface DeadLetterSource {
  list(filter?: { reason?: string; deviceId?: string; beforeId?: number; limit?: number }): readonly DeadLetter[];
  countByReason(): Record<string, number>;
}

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface ApiContext {
  readonly config: PlatformConfig;
  readonly registry: RegistryRepository;
  readonly store: ReadingStore;
  readonly deadLetters?: DeadLetterSource;
  readonly clock: Clock;
  readonly policy: HeatingPolicy;
  readonly people: PeopleRepository;
  readonly auth: AuthService;
  readonly orders: OrdersService;
  readonly ordersRepo: OrdersRepository;
  readonly incidents: IncidentsRepository;
  readonly outages: OutagesRepository;
  readonly audit: AuditRepository;
  readonly topology: TopologyRepository;
  /** Publish on MQTT when connected (registry changes); resolves false when there is no broker. */
  publish(topic: string, payload: string): Promise<boolean>;
  readonly stats: { mqttConnected(): boolean; records(): RecordsHealthState };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on this route. Every /api route declares `roles` or `public`. */
    roles?: readonly Role[];
    public?: boolean;
  }
  interface FastifyRequest {
    /** Set by the access check (api/plugins/access.plugin.ts) on every non-public route. */
    person?: Person;
    session?: Session;
    sessionToken?: string;
  }
}

/** The signed-in person (the auth hook guarantees one on non-public routes). */
export function who(req: FastifyRequest): Person {
  if (!req.person) throw new HeatError('HEAT_ERR_UNAUTHENTICATED');
  return req.person;
}

/** A resident may only reach their own apartment; staff reach any. 403, never data. */
export function assertApartment(p: Person, apartmentId: string): void {
  if (p.role === 'resident' && p.apartmentId !== apartmentId) throw new HeatError('HEAT_ERR_FORBIDDEN', 'not your apartment');
}

export const isResident = (p: Person): boolean => p.role === 'resident';
