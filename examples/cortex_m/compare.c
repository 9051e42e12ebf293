#include "compare.h"

#include <math.h>

#include "board.h"
#include "format.h"

static float tolerance(float host) { return COMPARE_ABS_TOLERANCE + COMPARE_REL_TOLERANCE * fabsf(host); }

/* True when the host's best logit at this position is within the tolerance of another. */
static int host_tie(const float* row, int classes, int best) {
  for (int c = 0; c < classes; ++c)
    if (c != best && row[best] - row[c] <= tolerance(row[best])) return 1;
  return 0;
}

int compare_with_host(const int32_t* predictions, const float* logits, const int32_t* host_predictions,
                      const float* host_logits, int len, int classes) {
  int bad_logits = 0, identical = 0, bad_predictions = 0, ties = 0, worst = 0;
  float worst_share = 0.0f; /* the largest difference as a share of its tolerance */
  for (int i = 0; i < len * classes; ++i) {
    const float share = fabsf(logits[i] - host_logits[i]) / tolerance(host_logits[i]);
    if (!(share <= 1.0f)) ++bad_logits; /* a NaN fails too */
    identical += logits[i] == host_logits[i];
    if (!(share <= worst_share)) worst_share = share, worst = i;
  }
  for (int i = 0; i < len; ++i) {
    if (predictions[i] == host_predictions[i]) continue;
    if (host_tie(host_logits + i * classes, classes, host_predictions[i]))
      ++ties;
    else
      ++bad_predictions;
  }
  char a[16], b[16], c[16], d[16];
  board_print("host comparison: predictions %d/%d equal (%d differ at a tie), logits %d/%d within %s + %s |host|"
              " (%d identical)",
              len - bad_predictions - ties, len, ties, len * classes - bad_logits, len * classes,
              format_e(COMPARE_ABS_TOLERANCE, a, sizeof a), format_e(COMPARE_REL_TOLERANCE, b, sizeof b), identical);
  const float permille = 1000.0f * worst_share;
  const unsigned long shown = permille < 1e6f ? (unsigned long)(permille + 0.5f) : 999999ul; /* NaN too */
  board_print("largest difference: %lu.%lu%% of its tolerance, position %d class %d: device %s, host %s",
              shown / 10, shown % 10, worst / classes, worst % classes,
              format_e(logits[worst], c, sizeof c), format_e(host_logits[worst], d, sizeof d));
  return bad_logits + bad_predictions;
}
