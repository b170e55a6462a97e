// census-c: how many nodes of each type the graph holds, and whether one type dominates.
// Config `threshold` (0..1, default 0.5): the share above which a type is called dominant.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"

typedef struct {
  const uint8_t *name;
  size_t len;
  size_t count;
} type_count_t;

static int by_count_then_name(const void *a, const void *b) {
  const type_count_t *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->name, y->name, n);
  if (c != 0) return c;
  return x->len < y->len ? -1 : (x->len > y->len);
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

void exports_parseltongue_plugin_parseltongue_plugin_analyze_graph(
    exports_parseltongue_plugin_parseltongue_plugin_list_graph_node_t *nodes,
    exports_parseltongue_plugin_parseltongue_plugin_analysis_result_t *ret) {
  ret->confidence = 1.0f;
  ret->findings.ptr = NULL;
  ret->findings.len = 0;
  ret->recommendations.ptr = NULL;
  ret->recommendations.len = 0;
  size_t total = nodes->len;
  if (total == 0) {
    ret->recommendations.ptr = malloc(sizeof(analyzer_string_t));
    ret->recommendations.len = 1;
    set_string(&ret->recommendations.ptr[0], "the graph has no nodes to count");
    exports_parseltongue_plugin_parseltongue_plugin_list_graph_node_free(nodes);
    return;
  }
  double threshold = threshold_config();

  type_count_t *types = calloc(total, sizeof *types);
  size_t distinct = 0;
  for (size_t i = 0; i < total; i++) {
    analyzer_string_t *t = &nodes->ptr[i].node_type;
    size_t j = 0;
    while (j < distinct && !(types[j].len == t->len && memcmp(types[j].name, t->ptr, t->len) == 0)) j++;
    if (j == distinct) {
      types[distinct].name = t->ptr;
      types[distinct].len = t->len;
      distinct++;
    }
    types[j].count++;
  }
  qsort(types, distinct, sizeof *types, by_count_then_name);

  ret->findings.ptr = malloc(distinct * sizeof(analyzer_string_t));
  ret->findings.len = distinct;
  char line[512], pct[32];
  for (size_t j = 0; j < distinct; j++) {
    percent(pct, sizeof pct, types[j].count, total);
    snprintf(line, sizeof line, "%.*s: %zu of %zu nodes (%s%%)", (int)types[j].len, (const char *)types[j].name,
             types[j].count, total, pct);
    set_string(&ret->findings.ptr[j], line);
  }
  if (distinct > 1 && (double)types[0].count / (double)total >= threshold) {
    percent(pct, sizeof pct, types[0].count, total);
    snprintf(line, sizeof line,
             "`%.*s` makes up %s%% of all nodes: review whether it should be split into more specific types or modules",
             (int)types[0].len, (const char *)types[0].name, pct);
    ret->recommendations.ptr = malloc(sizeof(analyzer_string_t));
    ret->recommendations.len = 1;
    set_string(&ret->recommendations.ptr[0], line);
  }
  snprintf(line, sizeof line, "counted %zu nodes of %zu types", total, distinct);
  log_message(PARSELTONGUE_PLUGIN_HOST_LEVEL_INFO, line);
  free(types);
  // The input list is ours to free once we no longer point into it.
  exports_parseltongue_plugin_parseltongue_plugin_list_graph_node_free(nodes);
}
