import type { TrafficBucket } from '../../extension/protocol/webview';
import { SERIES_LENGTH, trafficSeries } from '../derive';
import { s } from '../dom';

const WIDTH = 96;
const HEIGHT = 24;

/**
 * Calls (line) and errors (line in the error colour) per 10 s over the last 10 minutes, on one
 * scale. Announced as a sentence, since a line is no use to a screen reader.
 */
export function sparkline(traffic: readonly TrafficBucket[], now: number): SVGSVGElement {
  const { calls, errors } = trafficSeries(traffic, now);
  const max = Math.max(1, ...calls);
  const totalCalls = calls.reduce((a, b) => a + b, 0);
  const totalErrors = errors.reduce((a, b) => a + b, 0);
  const points = (values: number[]): string =>
    values
      .map((v, i) => `${((i / (SERIES_LENGTH - 1)) * WIDTH).toFixed(1)},${(HEIGHT - 1 - (v / max) * (HEIGHT - 2)).toFixed(1)}`)
      .join(' ');
  return s(
    'svg',
    {
      class: 'sparkline',
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      width: WIDTH,
      height: HEIGHT,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': `Last 10 minutes: ${totalCalls} calls, ${totalErrors} errors`,
    },
    s('title', {}, `Last 10 minutes: ${totalCalls} calls, ${totalErrors} errors (per 10 s)`),
    s('polyline', { class: 'spark-calls', points: points(calls) }),
    totalErrors > 0 ? s('polyline', { class: 'spark-errors', points: points(errors) }) : null,
  );
}
