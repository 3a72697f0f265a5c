/**
 * When the language client should stop restarting a crashing server: after 4 crashes within
 * 3 minutes, as vscode-yaml does, instead of vscode-languageclient's default (5 in 3 minutes,
 * then a generic message). Kept free of `vscode` so it is unit-tested with a manual clock;
 * `host/lspClient.ts` maps the decisions onto the client's ErrorHandler.
 */
import type { Clock } from '../common/clock';
import { CrashWindow } from '../pool/crashWindow';

/** What to do after the server process closed. */
export type RestartDecision = { restart: true } | { restart: false; message: string };

/** Options of {@link RestartPolicy}. */
export interface RestartPolicyOptions {
  /** Crashes inside the window after which restarting stops. Default 4. */
  maxCrashes?: number;
  /** Default 180 000 ms (three minutes). */
  windowMs?: number;
}

/** See the module comment. */
export class RestartPolicy {
  private readonly crashes: CrashWindow;
  private readonly maxCrashes: number;
  private readonly windowMs: number;

  constructor(clock: Clock, options: RestartPolicyOptions = {}) {
    this.maxCrashes = options.maxCrashes ?? 4;
    this.windowMs = options.windowMs ?? 180_000;
    this.crashes = new CrashWindow({ maxCrashes: this.maxCrashes, windowMs: this.windowMs }, clock);
  }

  /** Records that the server closed unexpectedly and decides whether to start it again. */
  closed(): RestartDecision {
    if (!this.crashes.record()) return { restart: true };
    const minutes = Math.round(this.windowMs / 60_000);
    return {
      restart: false,
      message: `The Gatehouse config language server crashed ${this.maxCrashes} times in ${minutes} minutes and will not be restarted, so registry.yaml and policy.yaml are not checked while you type. The gateway itself is not affected. Run "Developer: Reload Window" to try again; the "Gatehouse Config" output has the details.`,
    };
  }

  /** Forgets past crashes (an explicit restart by the user). */
  reset(): void {
    this.crashes.reset();
  }
}
