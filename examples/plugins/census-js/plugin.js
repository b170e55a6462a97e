// census-js: how many nodes of each type the graph holds, and whether one type dominates.
// Config `threshold` (0..1, default 0.5): the share above which a type is called dominant.
//
// Contract 0.2: the graph arrives as columns. Every string lives once in `graph.text` (bytes);
// `graph.stringEnds[i]` is where string `i` ends. Node `v`'s type is string `graph.nodeTypes[v]`;
// edges are node indices (`graph.edgeSources[e]` -> `graph.edgeTargets[e]`).
import { log, config } from 'parseltongue:plugin/host';

// UTF-8 bytes as a string (the engine has no TextDecoder).
function utf8(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let cp, extra;
    if (b < 0x80) { cp = b; extra = 0; }
    else if (b < 0xe0) { cp = b & 0x1f; extra = 1; }
    else if (b < 0xf0) { cp = b & 0x0f; extra = 2; }
    else { cp = b & 0x07; extra = 3; }
    for (let k = 1; k <= extra; k++) cp = (cp << 6) | (bytes[i + k] & 0x3f);
    out += String.fromCodePoint(cp);
    i += extra + 1;
  }
  return out;
}

// String `i` of the graph's string table.
function span(graph, i) {
  const start = i === 0 ? 0 : graph.stringEnds[i - 1];
  const end = graph.stringEnds[i];
  return utf8(graph.text.slice(start, end));
}

// A share as a percentage with one decimal, rounded half up in integers.
function percent(count, total) {
  const tenths = Math.floor((2000 * count + total) / (2 * total));
  return `${Math.floor(tenths / 10)}.${tenths % 10}`;
}

// Byte order, as the other languages sort names.
function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
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

export const analysis = {
  rules() {
    return [
      {
        id: 'census.type',
        summary: 'how many nodes of one type the graph holds',
        defaultSeverity: 'note',
        help: 'when one type dominates, check whether it should be split into more specific types or modules',
      },
    ];
  },

  analyze(graph) {
    const total = graph.nodeTypes.length;
    if (total === 0) {
      return { findings: [], confidence: 1.0, recommendations: ['the graph has no nodes to count'] };
    }
    const limit = threshold();
    // Count by string index: equal types have equal indices.
    const byIndex = new Map();
    for (let v = 0; v < total; v++) {
      const t = graph.nodeTypes[v];
      byIndex.set(t, (byIndex.get(t) || 0) + 1);
    }
    const sorted = [...byIndex.entries()]
      .map(([t, n]) => {
        const start = t === 0 ? 0 : graph.stringEnds[t - 1];
        return { bytes: graph.text.slice(start, graph.stringEnds[t]), name: span(graph, t), n };
      })
      .sort((a, b) => b.n - a.n || compareBytes(a.bytes, b.bytes));
    const findings = sorted.map(({ name, n }) => ({
      rule: 'census.type',
      severity: 'note',
      message: `${name}: ${n} of ${total} nodes (${percent(n, total)}%)`,
      nodes: [],
    }));
    const recommendations = [];
    const top = sorted[0];
    if (sorted.length > 1 && top.n / total >= limit) {
      recommendations.push(
        `\`${top.name}\` makes up ${percent(top.n, total)}% of all nodes: review whether it should be split into more specific types or modules`,
      );
    }
    log('info', `counted ${total} nodes of ${sorted.length} types`);
    return { findings, confidence: 1.0, recommendations };
  },
};
