/**
 * The model's readings in delivery order, without MQTT: what the fleet would publish, as
 * `Reading`s tagged with their location. A device in a network outage buffers and delivers its
 * backlog when it comes back (late, with old timestamps), exactly as the fleet does. Used by
 * the scenario runner's direct mode, by replay-file export and by the benches.
 */
import { MINUTE_MS } from '../domain/clock.ts';
import type { Reading } from '../domain/reading.ts';
import type { Device } from '../domain/topology.schema.ts';
import { hash32 } from './random.ts';
import { Schedule, type Scheduled } from './schedule.ts';
import type { ThermalModel } from './thermal.model.ts';

export interface Delivery {
  /** Model time it reaches the platform, epoch ms. */
  readonly at: number;
  readonly deviceId: string;
  /** One reading, or a backlog (oldest first) followed by the current one. */
  readonly readings: readonly Reading[];
}

interface FeedDevice extends Scheduled {
  readonly device: Device;
  readonly intervalMs: number;
  backlog: Reading[];
}

export interface FeedOptions {
  readonly from: number;
  /** Exclusive. */
  readonly to: number;
  readonly deviceFilter?: (d: Device) => boolean;
}

/** Generate deliveries from `from` to `to`, stepping the model as it goes. */
export function* simulateDeliveries(model: ThermalModel, opts: FeedOptions): Generator<Delivery> {
  const ix = model.index;
  const schedule = new Schedule<FeedDevice>();
  for (const d of ix.city.devices) {
    if (d.kind === 'gateway' || !d.enabled) continue;
    if (opts.deviceFilter && !opts.deviceFilter(d)) continue;
    const intervalMs = d.intervalMin * MINUTE_MS;
    // Devices are not synchronised: each has its own phase within its interval.
    const phase = (hash32(d.id, ix.city.seed) % 1000) / 1000;
    schedule.push({ id: d.id, device: d, intervalMs, next: opts.from + Math.floor(phase * intervalMs), backlog: [] });
  }
  for (let fd = schedule.peek(); fd && fd.next < opts.to; fd = schedule.peek()) {
    schedule.pop();
    const at = fd.next;
    model.step(at);
    const out = model.readDevice(fd.id, at);
    if (out.deliver !== 'drop') {
      const r = ix.toReading(fd.id, at, out.payload);
      if (r) {
        if (out.deliver === 'buffer') fd.backlog.push(r);
        else if (fd.backlog.length) {
          const readings = [...fd.backlog, r];
          fd.backlog = [];
          yield { at, deviceId: fd.id, readings };
        } else yield { at, deviceId: fd.id, readings: [r] };
      }
    }
    fd.next = at + fd.intervalMs;
    schedule.push(fd);
  }
  model.step(opts.to);
}
