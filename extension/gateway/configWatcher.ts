import { watch, type FSWatcher } from 'node:fs';
import type { IDisposable } from '../common/disposable';
import type { Logger } from '../common/logger';

const WATCHED = new Set(['registry.yaml', 'policy.yaml', 'gatehouse.yaml', 'fingerprints.json']);

/**
 * Watches the config dir (inotify / FSEvents through fs.watch: no polling, no sync I/O) and
 * calls `onChange` once per burst of edits to registry.yaml, policy.yaml, gatehouse.yaml or
 * fingerprints.json — editors save through temp files and renames, which arrive as several events.
 */
export class ConfigWatcher implements IDisposable {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    dir: string,
    private readonly onChange: () => void,
    logger: Logger,
    private readonly debounceMs = 200,
  ) {
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, file) => {
        if (file === null || WATCHED.has(String(file))) this.schedule();
      });
      this.watcher.on('error', (err) => logger.warn(`stopped watching ${dir}: ${err.message}`));
    } catch (err) {
      // A missing dir (no config yet) is not an error: there is nothing to reload.
      logger.debug(`not watching ${dir}: ${(err as Error).message}`);
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onChange();
    }, this.debounceMs);
    this.timer.unref();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
  }
}
