import { systemClock, type Clock } from '../../common/clock';
import { Disposable, MutableDisposable, toDisposable } from '../../common/disposable';
import { nullLogger, type Logger } from '../../common/logger';
import {
  AUDIT_EVENTS_KEPT,
  PROTOCOL_VERSION,
  isActionRequest,
  parseWebviewToHost,
  type ActionRequest,
  type AuditEventView,
  type DashboardPatch,
  type HostToWebview,
  type ServerEntry,
  type WebviewToHost,
} from '../../protocol/webview';
import type { DashboardModel, ModelChange } from './dashboardModel';

/** At most this many state messages per second reach the webview (DESIGN.md §8). */
export const MAX_PUSHES_PER_SECOND = 10;
/** After a post that did not arrive, wait this long before trying again with a snapshot. */
const RETRY_AFTER_FAILED_POST_MS = 1_000;

/** Runs one action; resolves with a note for the user (or nothing), rejects when it failed. */
export type ActionRunner = (request: ActionRequest) => Promise<string | void>;

export interface DashboardSessionOptions {
  model: DashboardModel;
  /** Posts to the webview; resolves false when the message was not delivered. */
  post: (message: HostToWebview) => PromiseLike<boolean>;
  runAction: ActionRunner;
  /** Whether the panel is visible now. */
  visible: boolean;
  clock?: Clock;
  logger?: Logger;
}

interface Pending {
  servers: Set<string>;
  removed: Set<string>;
  order: boolean;
  sessionBlocks: boolean;
  gateway: boolean;
  audit: AuditEventView[];
}

const emptyPending = (): Pending => ({ servers: new Set(), removed: new Set(), order: false, sessionBlocks: false, gateway: false, audit: [] });

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
    this.register(options.model.onDidChange((change) => this.onModelChange(change)));
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
      this.actions = this.actions.then(() => this.runAction(message));
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
      default:
        assertNever(message);
    }
  }

  private async runAction(request: ActionRequest): Promise<void> {
    let ok = true;
    let note: string | null = null;
    try {
      note = (await this.options.runAction(request)) ?? null;
    } catch (err) {
      ok = false;
      note = err instanceof Error ? err.message : String(err);
      this.logger.warn(`dashboard: ${request.type} failed: ${note}`);
    }
    if (this.disposed) return;
    // Not coalesced: it answers a click, and the webview re-enables the button on it.
    void this.send({ type: 'action/didComplete', requestId: request.requestId, ok, message: note });
  }

  private onModelChange(change: ModelChange): void {
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
    const model = this.options.model;
    const revision = model.revision;
    if (this.needsSnapshot) {
      this.needsSnapshot = false;
      this.pending = emptyPending();
      this.post({ type: 'dashboard/didSnapshot', protocolVersion: PROTOCOL_VERSION, revision, hostNow: this.clock.now(), state: model.state() });
      return;
    }
    if (revision === this.sentRevision) return;
    const patch = this.buildPatch();
    this.post({ type: 'dashboard/didPatch', baseRevision: this.sentRevision, revision, hostNow: this.clock.now(), patch });
  }

  private buildPatch(): DashboardPatch {
    const model = this.options.model;
    const p = this.pending;
    this.pending = emptyPending();
    const patch: DashboardPatch = {};
    const servers: ServerEntry[] = [];
    const removed = new Set(p.removed);
    for (const name of p.servers) {
      const entry = model.entry(name);
      if (entry) servers.push(entry);
      else removed.add(name);
    }
    for (const name of removed) if (model.entry(name)) removed.delete(name);
    if (servers.length) patch.servers = servers;
    if (removed.size) patch.removed = [...removed];
    if (p.order || removed.size) patch.order = model.serverOrder();
    if (p.sessionBlocks) patch.session_blocks = model.sessionBlocks();
    if (p.gateway) patch.gateway = model.gatewayInfo();
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
