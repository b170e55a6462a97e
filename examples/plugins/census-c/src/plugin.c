// census-c: how many nodes of each type the graph holds, and whether one type dominates.
// Config `threshold` (0..1, default 0.5): the share above which a type is called dominant.
//
// Contract 0.2: the graph arrives as columns. Every string lives once in `graph->text`;
// `graph->string_ends.ptr[i]` is where string `i` ends. Node `v`'s type is string
// `graph->node_types.ptr[v]`; edges are node indices.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"

typedef exports_parseltongue_plugin_analysis_graph_t graph_t;
typedef parseltongue_plugin_graph_types_finding_t finding_t;

// String `i` of the graph's string table: a pointer into `graph->text` (no copy) and its length.
// Out-of-range indices read as "".
static analyzer_string_t span(const graph_t *graph, uint32_t i) {
  analyzer_string_t s = {.ptr = graph->text.ptr, .len = 0};
  if (i >= graph->string_ends.len) return s;
  uint32_t start = i == 0 ? 0 : graph->string_ends.ptr[i - 1];
  uint32_t end = graph->string_ends.ptr[i];
  if (start > end || end > graph->text.len) return s;
  s.ptr = graph->text.ptr + start;
  s.len = end - start;
  return s;
}

typedef struct {
  uint32_t type;  // a string index: equal types have equal indices
  analyzer_string_t name;
  size_t count;
} type_count_t;

static int by_count_then_name(const void *a, const void *b) {
  const type_count_t *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
  int c = memcmp(x->name.ptr, y->name.ptr, n);
  if (c != 0) return c;
  return x->name.len < y->name.len ? -1 : (x->name.len > y->name.len);
}

// Strings handed back to the host must be malloc'ed: the generated post-return frees them.
static void set_string(analyzer_string_t *out, const char *text) {
  size_t len = strlen(text);
  uint8_t *copy = malloc(len);
  memcpy(copy, text, len);
  out->ptr = copy;
  out->len = len;
}

static void percent(char *out, size_t size, size_t count, size_t total) {
  size_t tenths = (2000 * count + total) / (2 * total);
  snprintf(out, size, "%zu.%zu", tenths / 10, tenths % 10);
}

static void log_message(parseltongue_plugin_host_level_t level, const char *text) {
  analyzer_string_t message;
  analyzer_string_set(&message, text);
  parseltongue_plugin_host_log(level, &message);
}

static double threshold_config(void) {
  analyzer_string_t key, value;
  analyzer_string_set(&key, "threshold");
  if (!parseltongue_plugin_host_config(&key, &value)) return 0.5;
  char text[64] = {0};
  size_t n = value.len < sizeof text - 1 ? value.len : sizeof text - 1;
  memcpy(text, value.ptr, n);
  analyzer_string_free(&value);
  char *end = NULL;
  double t = strtod(text, &end);
  if (end == text || *end != '\0' || !(t >= 0.0 && t <= 1.0)) {
    log_message(PARSELTONGUE_PLUGIN_HOST_LEVEL_WARN, "config `threshold` must be a number between 0 and 1; using 0.5");
    return 0.5;
  }
  return t;
}

void exports_parseltongue_plugin_analysis_rules(exports_parseltongue_plugin_analysis_list_rule_t *ret) {
  ret->ptr = malloc(sizeof *ret->ptr);
  ret->len = 1;
  set_string(&ret->ptr[0].id, "census.type");
  set_string(&ret->ptr[0].summary, "how many nodes of one type the graph holds");
  ret->ptr[0].default_severity = PARSELTONGUE_PLUGIN_GRAPH_TYPES_SEVERITY_NOTE;
  set_string(&ret->ptr[0].help,
             "when one type dominates, check whether it should be split into more specific types or modules");
}

void exports_parseltongue_plugin_analysis_analyze(graph_t *graph, exports_parseltongue_plugin_analysis_report_t *ret) {
  ret->confidence = 1.0f;
  ret->findings.ptr = NULL;
  ret->findings.len = 0;
  ret->recommendations.ptr = NULL;
  ret->recommendations.len = 0;
  size_t total = graph->node_types.len;
  if (total == 0) {
    ret->recommendations.ptr = malloc(sizeof(analyzer_string_t));
    ret->recommendations.len = 1;
    set_string(&ret->recommendations.ptr[0], "the graph has no nodes to count");
    exports_parseltongue_plugin_analysis_graph_free(graph);
    return;
  }
  double threshold = threshold_config();

  // Count by string index: no string is compared until the types are named for sorting.
  type_count_t *types = calloc(total, sizeof *types);
  size_t distinct = 0;
  for (size_t v = 0; v < total; v++) {
    uint32_t t = graph->node_types.ptr[v];
    size_t j = 0;
    while (j < distinct && types[j].type != t) j++;
    if (j == distinct) {
      types[distinct].type = t;
      types[distinct].name = span(graph, t);
      distinct++;
    }
    types[j].count++;
  }
  qsort(types, distinct, sizeof *types, by_count_then_name);

  ret->findings.ptr = calloc(distinct, sizeof(finding_t));
  ret->findings.len = distinct;
  char line[512], pct[32];
  for (size_t j = 0; j < distinct; j++) {
    finding_t *f = &ret->findings.ptr[j];
    percent(pct, sizeof pct, types[j].count, total);
    snprintf(line, sizeof line, "%.*s: %zu of %zu nodes (%s%%)", (int)types[j].name.len,
             (const char *)types[j].name.ptr, types[j].count, total, pct);
    set_string(&f->rule, "census.type");
    f->severity = PARSELTONGUE_PLUGIN_GRAPH_TYPES_SEVERITY_NOTE;
    set_string(&f->message, line);
    f->nodes.ptr = NULL;
    f->nodes.len = 0;
  }
  if (distinct > 1 && (double)types[0].count / (double)total >= threshold) {
    percent(pct, sizeof pct, types[0].count, total);
    snprintf(line, sizeof line,
             "`%.*s` makes up %s%% of all nodes: review whether it should be split into more specific types or modules",
             (int)types[0].name.len, (const char *)types[0].name.ptr, pct);
    ret->recommendations.ptr = malloc(sizeof(analyzer_string_t));
    ret->recommendations.len = 1;
    set_string(&ret->recommendations.ptr[0], line);
  }
  snprintf(line, sizeof line, "counted %zu nodes of %zu types", total, distinct);
  log_message(PARSELTONGUE_PLUGIN_HOST_LEVEL_INFO, line);
  free(types);
  // The input is ours to free once nothing points into it.
  exports_parseltongue_plugin_analysis_graph_free(graph);
}
