import { systemClock, type Clock } from '../../common/clock';
import { Disposable, MutableDisposable, toDisposable } from '../../common/disposable';
import type { Event } from '../../common/event';
import { nullLogger, type Logger } from '../../common/logger';
import type { SessionBlockView } from '../../protocol/model';
import {
  AUDIT_EVENTS_KEPT,
  PROTOCOL_VERSION,
  isActionRequest,
  parseWebviewToHost,
  type ActionRequest,
  type AuditEventView,
  type DashboardPatch,
  type DashboardState,
  type GatewayInfo,
  type GatewayPicker,
  type HostToWebview,
  type ServerEntry,
  type WebviewToHost,
} from '../../protocol/webview';
import type { ActionTarget } from './dashboardActions';
import type { DashboardChange } from './dashboardSelection';

/** At most this many state messages per second reach the webview (DESIGN.md §8). */
export const MAX_PUSHES_PER_SECOND = 10;
/** After a post that did not arrive, wait this long before trying again with a snapshot. */
const RETRY_AFTER_FAILED_POST_MS = 1_000;

/**
 * Runs one action on `target`, the gateway it was clicked on; resolves with a note for the user
 * (or nothing), rejects when it failed.
 */
export type ActionRunner = (request: ActionRequest, target: ActionTarget) => Promise<string | void>;

/** What a session reads and posts: one panel's view of the gateways (a DashboardSelection). */
export interface DashboardFeed {
  readonly revision: number;
  readonly onDidChange: Event<DashboardChange>;
  state(): DashboardState;
  entry(name: string): ServerEntry | undefined;
  serverOrder(): string[];
  sessionBlocks(): SessionBlockView[];
  gatewayInfo(): GatewayInfo | null;
  picker(): GatewayPicker;
  /** Shows another gateway; false when the id names none. */
  select(id: string): boolean;
  /** The gateway an action clicked on `id` acts on; throws when that is not the one shown. */
  target(id: string): ActionTarget;
}

export interface DashboardSessionOptions {
  feed: DashboardFeed;
  /** Posts to the webview; resolves false when the message was not delivered. */
  post: (message: HostToWebview) => PromiseLike<boolean>;
  runAction: ActionRunner;
  /** Whether the panel is visible now. */
  visible: boolean;
  clock?: Clock;
  logger?: Logger;
}

interface Pending {
  picker: boolean;
  servers: Set<string>;
  removed: Set<string>;
  order: boolean;
  sessionBlocks: boolean;
  gateway: boolean;
  audit: AuditEventView[];
}

const emptyPending = (): Pending => ({ picker: false, servers: new Set(), removed: new Set(), order: false, sessionBlocks: false, gateway: false, audit: [] });

/**
 * One webview's conversation with the host, without VS Code (the panel feeds it). Posts nothing
 * before `webview/ready`; answers it with a snapshot; then coalesces model changes into at most
 * {@link MAX_PUSHES_PER_SECOND} patches per second, each stamped with the revision it applies to.
 * A hidden webview is torn down by VS Code and cannot receive messages, so nothing is posted
 * while hidden and a fresh snapshot goes out when it is visible again. Inbound messages pass the
 * protocol guard; anything else is logged and dropped.
 */
export class DashboardSession extends Disposable {
  private ready = false;
  private visible: boolean;
  /** The next post must be a snapshot (first one, after hiding, a failed post, a reset, a request). */
  private needsSnapshot = true;
  /** Revision the webview holds after our last post; patches are stamped with it. */
  private sentRevision = -1;
  private pending = emptyPending();
  private lastPostAt = Number.NEGATIVE_INFINITY;
  private readonly timer = this.register(new MutableDisposable());
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly minIntervalMs = 1000 / MAX_PUSHES_PER_SECOND;
  private disposed = false;
  /** Actions run one at a time, in the order the user clicked (disable then enable stays so). */
  private actions: Promise<void> = Promise.resolve();

  constructor(private readonly options: DashboardSessionOptions) {
    super();
    this.visible = options.visible;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? nullLogger;
    this.register(options.feed.onDidChange((change) => this.onFeedChange(change)));
    this.register(toDisposable(() => (this.disposed = true)));
  }

  /** Feeds one raw message from the webview (untrusted). */
  receive(raw: unknown): void {
    const parsed = parseWebviewToHost(raw);
    if (!parsed.ok) {
      this.logger.warn(`dashboard: dropped a message from the webview (${parsed.error})`);
      return;
    }
    this.handle(parsed.message);
  }

  /** The panel was shown or hidden. */
  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    // Hidden: VS Code tears the webview down and messages to it are lost. Shown again: a fresh
    // snapshot, whether the webview kept its context or reloads (its ready asks again anyway).
    this.needsSnapshot = true;
    this.pending = emptyPending();
    this.timer.value = undefined;
    if (visible) this.schedule();
  }

  private handle(message: WebviewToHost): void {
    if (isActionRequest(message)) {
      // Resolved now, not when its turn in the queue comes: the action acts on the gateway the
      // user saw when clicking, even if the panel shows another one by the time it runs.
      let target: ActionTarget | undefined;
      let refused: string | undefined;
      try {
        target = this.options.feed.target(message.gateway);
      } catch (err) {
        refused = err instanceof Error ? err.message : String(err);
      }
      this.actions = this.actions.then(() => this.runAction(message, target, refused));
      return;
    }
    switch (message.type) {
      case 'webview/ready':
        if (message.protocolVersion !== PROTOCOL_VERSION) {
          // Answered anyway: the snapshot carries our version and the webview says what to do.
          this.logger.warn(`dashboard: webview speaks protocol ${message.protocolVersion}, host ${PROTOCOL_VERSION}`);
        }
        this.ready = true;
        this.needsSnapshot = true;
        this.schedule();
        return;
      case 'dashboard/getSnapshot':
        this.logger.debug(`dashboard: snapshot requested (${message.reason})`);
        this.needsSnapshot = true;
        this.schedule();
        return;
      case 'gateway/select':
        if (!this.options.feed.select(message.gateway)) this.logger.warn('dashboard: the webview chose a gateway that no longer exists');
        // Answered with a snapshot even when nothing switched: the webview waits for one.
        this.needsSnapshot = true;
        this.pending = emptyPending();
        this.schedule();
        return;
      default:
        assertNever(message);
    }
  }

  private async runAction(request: ActionRequest, target: ActionTarget | undefined, refused: string | undefined): Promise<void> {
    let ok = true;
    let note: string | null = null;
    try {
      if (!target) throw new Error(refused ?? 'No gateway is shown.');
      note = (await this.options.runAction(request, target)) ?? null;
    } catch (err) {
      ok = false;
      note = err instanceof Error ? err.message : String(err);
      this.logger.warn(`dashboard: ${request.type} failed: ${note}`);
    }
    if (this.disposed) return;
    // Not coalesced: it answers a click, and the webview re-enables the button on it.
    void this.send({ type: 'action/didComplete', requestId: request.requestId, ok, message: note });
  }

  private onFeedChange(change: DashboardChange): void {
    if (change.reset) {
      this.needsSnapshot = true;
      this.pending = emptyPending();
    } else if (!this.needsSnapshot) {
      const p = this.pending;
      for (const name of change.servers) {
        p.servers.add(name);
        p.removed.delete(name);
      }
      for (const name of change.removed) {
        p.removed.add(name);
        p.servers.delete(name);
      }
      p.picker ||= change.picker;
      p.order ||= change.order;
      p.sessionBlocks ||= change.sessionBlocks;
      p.gateway ||= change.gateway;
      if (change.audit.length) p.audit = [...p.audit, ...change.audit].slice(-AUDIT_EVENTS_KEPT);
    }
    this.schedule();
  }

  /** Flushes at the next allowed moment; a burst of changes becomes one message. */
  private schedule(delayAtLeast = 0): void {
    if (!this.ready || !this.visible || this.disposed || this.timer.value) return;
    const delay = Math.max(delayAtLeast, this.lastPostAt + this.minIntervalMs - this.clock.now(), 0);
    this.timer.value = this.clock.setTimeout(() => {
      this.timer.value = undefined;
      this.flush();
    }, delay);
  }

  private flush(): void {
    if (!this.ready || !this.visible || this.disposed) return;
    const feed = this.options.feed;
    const revision = feed.revision;
    if (this.needsSnapshot) {
      this.needsSnapshot = false;
      this.pending = emptyPending();
      this.post({ type: 'dashboard/didSnapshot', protocolVersion: PROTOCOL_VERSION, revision, hostNow: this.clock.now(), state: feed.state() });
      return;
    }
    if (revision === this.sentRevision) return;
    const patch = this.buildPatch();
    this.post({ type: 'dashboard/didPatch', baseRevision: this.sentRevision, revision, hostNow: this.clock.now(), patch });
  }

  private buildPatch(): DashboardPatch {
    const feed = this.options.feed;
    const p = this.pending;
    this.pending = emptyPending();
    const patch: DashboardPatch = {};
    const servers: ServerEntry[] = [];
    const removed = new Set(p.removed);
    for (const name of p.servers) {
      const entry = feed.entry(name);
      if (entry) servers.push(entry);
      else removed.add(name);
    }
    for (const name of removed) if (feed.entry(name)) removed.delete(name);
    if (servers.length) patch.servers = servers;
    if (removed.size) patch.removed = [...removed];
    if (p.order || removed.size) patch.order = feed.serverOrder();
    if (p.sessionBlocks) patch.session_blocks = feed.sessionBlocks();
    if (p.picker) patch.picker = feed.picker();
    if (p.gateway) patch.gateway = feed.gatewayInfo();
    if (p.audit.length) patch.audit = p.audit;
    return patch;
  }

  private post(message: Extract<HostToWebview, { type: 'dashboard/didSnapshot' | 'dashboard/didPatch' }>): void {
    this.lastPostAt = this.clock.now();
    this.sentRevision = message.revision;
    void this.send(message).then((delivered) => {
      if (delivered || this.disposed) return;
      // Lost (the webview was going away or reloading): the next post must be a snapshot.
      this.logger.debug(`dashboard: ${message.type} at revision ${message.revision} was not delivered`);
      this.needsSnapshot = true;
      this.schedule(RETRY_AFTER_FAILED_POST_MS);
    });
  }

  private async send(message: HostToWebview): Promise<boolean> {
    try {
      return await this.options.post(message);
    } catch (err) {
      this.logger.warn(`dashboard: posting ${message.type} failed: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected message: ${JSON.stringify(value)}`);
}
