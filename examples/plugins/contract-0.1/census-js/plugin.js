// census-js: how many nodes of each type the graph holds, and whether one type dominates.
// Config `threshold` (0..1, default 0.5): the share above which a type is called dominant.
import { log, config } from 'parseltongue:plugin/host';

// A share as a percentage with one decimal, rounded half up in integers.
function percent(count, total) {
  const tenths = Math.floor((2000 * count + total) / (2 * total));
  return `${Math.floor(tenths / 10)}.${tenths % 10}`;
}

function threshold() {
  const text = config('threshold');
  if (text === undefined || text === null) return 0.5;
  const t = Number(text);
  if (text.trim() === '' || !(t >= 0 && t <= 1)) {
    log('warn', 'config `threshold` must be a number between 0 and 1; using 0.5');
    return 0.5;
  }
  return t;
}

export const parseltonguePlugin = {
  analyzeGraph(nodes) {
    if (nodes.length === 0) {
      return { findings: [], confidence: 1.0, recommendations: ['the graph has no nodes to count'] };
    }
    const limit = threshold();
    const counts = new Map();
    for (const n of nodes) counts.set(n.nodeType, (counts.get(n.nodeType) || 0) + 1);
    const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const total = nodes.length;
    const findings = sorted.map(([t, n]) => `${t}: ${n} of ${total} nodes (${percent(n, total)}%)`);
    const recommendations = [];
    const [top, topCount] = sorted[0];
    if (sorted.length > 1 && topCount / total >= limit) {
      recommendations.push(
        `\`${top}\` makes up ${percent(topCount, total)}% of all nodes: review whether it should be split into more specific types or modules`,
      );
    }
    log('info', `counted ${total} nodes of ${sorted.length} types`);
    return { findings, confidence: 1.0, recommendations };
  },
};
