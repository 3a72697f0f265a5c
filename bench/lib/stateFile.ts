import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DownstreamView } from '../../extension/protocol/model';

/**
 * The downstream entries of `serve.state.json`, or undefined while it is absent or mid-replace.
 * Read synchronously on purpose: the recovery bench polls it in a tight loop and wants the file
 * as it is at that instant (the gateway writes it atomically, so a read sees old or new).
 */
export function readState(configDir: string): Array<Partial<DownstreamView> & { name: string }> | undefined {
  try {
    const data = JSON.parse(readFileSync(path.join(configDir, 'serve.state.json'), 'utf8')) as { downstreams?: Array<Partial<DownstreamView> & { name: string }> };
    return Array.isArray(data.downstreams) ? data.downstreams : undefined;
  } catch {
    return undefined;
  }
}
