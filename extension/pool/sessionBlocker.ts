import type { Clock } from '../common/clock';
import { Disposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { CircuitState, SessionBlockView } from '../protocol/model';

/** The SESSION_BLOCKER event, field for field as rea emits it (SPEC §4). */
export interface SessionBlockerEvent {
  event: 'SESSION_BLOCKER';
  session_id: string;
  server_name: string;
  open_transitions: number;
  threshold: number;
  /** ISO time of the fire. */
  emitted_at: string;
  /** Human text for the log and the notification. */
  message: string;
}

/** Per-server counters, as rea's `snapshot()` returns them. */
export interface SessionBlockerEntry {
  server: string;
  open_transitions: number;
  emitted: boolean;
}

/** The part of a circuit transition the tracker looks at. */
export interface SessionBlockerTransition {
  server: string;
  from: CircuitState;
  to: CircuitState;
}

/** Tunables of {@link SessionBlockerTracker}. */
export interface SessionBlockerOptions {
  /** Open transitions in one session that fire the blocker. Default 3, floored at 1. */
  threshold?: number;
}

interface Entry {
  openTransitions: number;
  /** The fire of the current arming, or null while armed. */
  fired: SessionBlockerEvent | null;
}

/**
 * One loud signal per outage instead of a stream of circuit logs (SPEC §4). Counts, per
 * server, how often its circuit opened in this gateway session; at the threshold it fires
 * once, and stays quiet until the circuit closes again (the re-arm).
 *
 * Counting is exactly rea's: `closed` resets and re-arms, `half-open` is ignored, `open`
 * counts. A respawn is deliberately not a recovery (rea's `recordRespawn` is a no-op, so this
 * class has no such method): only a closed circuit, i.e. a real success, re-arms.
 *
 * The tracker only decides; the owner logs, audits and notifies from
 * {@link onDidFireSessionBlocker}.
 */
export class SessionBlockerTracker extends Disposable {
  private readonly threshold: number;
  private readonly entries = new Map<string, Entry>();
  private currentSessionId: string;
  private readonly fireEmitter = this.register(new Emitter<SessionBlockerEvent>());

  /** Fires once per server per arming, when the open count reaches the threshold. */
  readonly onDidFireSessionBlocker: Event<SessionBlockerEvent> = this.fireEmitter.event;

  /**
   * @param sessionId the gateway session (its process-wide UUID)
   * @param options tunables, see {@link SessionBlockerOptions}
   * @param clock stamps `emitted_at`
   */
  constructor(
    sessionId: string,
    options: SessionBlockerOptions = {},
    private readonly clock: Clock,
  ) {
    super();
    this.currentSessionId = sessionId;
    const threshold = Math.floor(options.threshold ?? 3);
    this.threshold = Number.isFinite(threshold) ? Math.max(1, threshold) : 3;
  }

  /** The session the counts belong to. */
  get sessionId(): string {
    return this.currentSessionId;
  }

  /** Feeds one circuit transition (wire it to every breaker's `onDidChangeState`). */
  recordTransition(transition: SessionBlockerTransition): void {
    const { server, to } = transition;
    if (to === 'half-open') return;
    if (to === 'closed') {
      const entry = this.entries.get(server);
      if (entry) {
        entry.openTransitions = 0;
        entry.fired = null;
      }
      return;
    }
    let entry = this.entries.get(server);
    if (!entry) {
      entry = { openTransitions: 0, fired: null };
      this.entries.set(server, entry);
    }
    entry.openTransitions++;
    if (entry.fired || entry.openTransitions < this.threshold) return;
    // Mark before firing: a listener that feeds another transition back in must not fire twice.
    const event: SessionBlockerEvent = {
      event: 'SESSION_BLOCKER',
      session_id: this.currentSessionId,
      server_name: server,
      open_transitions: entry.openTransitions,
      threshold: this.threshold,
      emitted_at: new Date(this.clock.now()).toISOString(),
      message: sessionBlockerMessage(server, entry.openTransitions, this.threshold),
    };
    entry.fired = event;
    this.fireEmitter.fire(event);
  }

  /** Counters of every server seen so far, in first-seen order. */
  snapshot(): SessionBlockerEntry[] {
    return [...this.entries].map(([server, entry]) => ({
      server,
      open_transitions: entry.openTransitions,
      emitted: entry.fired !== null,
    }));
  }

  /** Counters of one server, or undefined when its circuit never opened this session. */
  get(server: string): SessionBlockerEntry | undefined {
    const entry = this.entries.get(server);
    return entry && { server, open_transitions: entry.openTransitions, emitted: entry.fired !== null };
  }

  /**
   * The blockers currently fired (not yet re-armed by a close), for the UI. `open_transitions`
   * is the live count, which keeps growing after the fire; `message` and `emitted_at` are
   * those of the fire.
   */
  blocks(): SessionBlockView[] {
    const out: SessionBlockView[] = [];
    for (const [server, entry] of this.entries) {
      if (!entry.fired) continue;
      out.push({
        server,
        open_transitions: entry.openTransitions,
        threshold: entry.fired.threshold,
        emitted_at: entry.fired.emitted_at,
        message: entry.fired.message,
      });
    }
    return out;
  }

  /** Starts a new session: new id, every count dropped (rea's `resetForSession`). */
  resetForSession(sessionId: string): void {
    this.currentSessionId = sessionId;
    this.entries.clear();
  }
}

/** The operator-facing text: what happened, what it means, what to do. */
function sessionBlockerMessage(server: string, opens: number, threshold: number): string {
  return (
    `Downstream "${server}" has opened its circuit ${opens} times this session (threshold ${threshold}). ` +
    `Traffic is being routed around it; an operator must act: ` +
    `run "Gatehouse: Respawn Server" for "${server}", and check its output ("Gatehouse: Show Server Output") ` +
    `for the cause.`
  );
}
