/**
 * The incident registry of the rules engine: which incidents are open (one per subject and
 * kind, in opening order), how they are built, resolved and announced, and which resolved
 * apartments still point at an open group. The rules decide *when*; this file owns *how* an
 * incident comes into being and leaves, so ids, revisions and event order stay one code path.
 */
import type { CauseClass, Incident, IncidentEvent, IncidentKind, Severity, SubjectType } from '../incident.schema.ts';

/** Where an incident's subject sits in the topology (copied onto the incident). */
export interface IncidentWhere {
  readonly stationId?: string | undefined;
  readonly buildingId?: string | undefined;
  readonly apartmentId?: string | undefined;
}

/** Everything an incident starts with; `RulesEngine` used to take these as ten positional arguments. */
export interface NewIncident {
  readonly kind: IncidentKind;
  readonly subjectType: SubjectType;
  readonly subjectId: string;
  /** Event time the condition began (not when it was detected). */
  readonly startTs: number;
  readonly severity: Severity;
  readonly cause: CauseClass;
  readonly evidence?: Incident['evidence'];
  readonly where?: IncidentWhere;
}

export function cloneIncident(i: Incident): Incident {
  const c: Incident = { ...i, evidence: { ...i.evidence } };
  if (i.children) c.children = [...i.children];
  return c;
}

export class IncidentRegistry {
  /** Open incidents by `${kind}|${subjectId}`, in opening order. */
  readonly #open = new Map<string, Incident>();
  readonly #openIds = new Set<string>();
  /**
   * Apartments whose incident resolved while grouped: they still point to the group, so the
   * group keeps listing them until it resolves itself (a parent lists exactly its children).
   */
  readonly resolvedKids = new Map<string, string[]>();
  /** Where events go; each public engine call starts a fresh list (`collect`). */
  #out: IncidentEvent[] = [];

  /** Start collecting the events of one engine call; returns the list they go to. */
  collect(): IncidentEvent[] {
    const out: IncidentEvent[] = [];
    this.#out = out;
    return out;
  }

  /** Build an incident without registering or announcing it. */
  make(n: NewIncident): Incident {
    const inc: Incident = {
      id: `${n.kind}:${n.subjectId}:${n.startTs}`,
      kind: n.kind,
      subjectType: n.subjectType,
      subjectId: n.subjectId,
      status: 'open',
      startTs: n.startTs,
      severity: n.severity,
      cause: n.cause,
      evidence: n.evidence ?? {},
    };
    const w = n.where;
    if (w?.stationId !== undefined) inc.stationId = w.stationId;
    if (w?.buildingId !== undefined) inc.buildingId = w.buildingId;
    if (w?.apartmentId !== undefined) inc.apartmentId = w.apartmentId;
    return inc;
  }

  /** A group incident (building, station, source): starts with an empty children list. */
  makeGroup(n: NewIncident): Incident {
    const inc = this.make(n);
    inc.children = [];
    return inc;
  }

  /** Build, register and announce (`opened` at `at`, the detection time). */
  open(n: NewIncident & { readonly at: number }): Incident {
    const inc = this.make(n);
    this.register(inc);
    this.emit('opened', n.at, inc);
    return inc;
  }

  register(inc: Incident): void {
    this.#open.set(`${inc.kind}|${inc.subjectId}`, inc);
    this.#openIds.add(inc.id);
  }

  get(kind: IncidentKind, subjectId: string): Incident | undefined {
    return this.#open.get(`${kind}|${subjectId}`);
  }

  has(kind: IncidentKind, subjectId: string): boolean {
    return this.#open.has(`${kind}|${subjectId}`);
  }

  isOpen(id: string): boolean {
    return this.#openIds.has(id);
  }

  /** Open incidents in opening order (the live objects: callers copy before handing out). */
  values(): IterableIterator<Incident> {
    return this.#open.values();
  }

  resolve(inc: Incident, endTs: number, at: number): void {
    inc.status = 'resolved';
    inc.endTs = endTs;
    this.#open.delete(`${inc.kind}|${inc.subjectId}`);
    this.#openIds.delete(inc.id);
    this.emit('resolved', at, inc);
    this.resolvedKids.delete(inc.id);
  }

  /** Resolve the open incident of this kind and subject, if there is one. */
  resolveOpen(kind: IncidentKind, subjectId: string, ts: number): void {
    const inc = this.get(kind, subjectId);
    if (inc) this.resolve(inc, ts, ts);
  }

  /** A lower group swallowed by a higher one (building → station, branch → source): resolve it, naming the survivor. */
  merge(inc: Incident, into: Incident, at: number): void {
    inc.evidence.mergedInto = into.id;
    // Its open children move to the survivor; only resolved ones still point here.
    inc.children = [...(this.resolvedKids.get(inc.id) ?? [])];
    this.resolve(inc, at, at);
  }

  /** An apartment incident resolved while its group is open: the group keeps listing it. */
  keepAsResolvedChild(inc: Incident): void {
    if (inc.parentId === undefined || !this.#openIds.has(inc.parentId)) return;
    const kids = this.resolvedKids.get(inc.parentId) ?? [];
    if (!kids.includes(inc.subjectId)) kids.push(inc.subjectId);
    this.resolvedKids.set(inc.parentId, kids);
  }

  emit(type: IncidentEvent['type'], at: number, inc: Incident): void {
    // Every event is a new state of the incident: consumers keep the highest revision (an
    // update at the same event time as the opening is not a duplicate).
    inc.revision = (inc.revision ?? 0) + 1;
    this.#out.push({ type, at, incident: cloneIncident(inc) });
  }
}
