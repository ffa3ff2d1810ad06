/* advisor: QEMU TCG plugin (plugin API version 1, QEMU >= 7.2) that counts executed guest
 * instructions and snapshots the count each time the guest executes one of two marker
 * functions: mark=ADDR (advisor_icount_mark, around each inference) and op=ADDR
 * (advisor_op_mark, around each op of the first inference). At exit it prints
 *   icount: total N
 *   icount: mark K N     (K-th snapshot of mark)
 *   icount: op K N       (K-th snapshot of op)
 * on stderr. The counts are instructions, not cycles: QEMU models no timing.
 * Build: cc -shared -fPIC -O2 -o icount.so icount_plugin.c
 * The prototypes below are QEMU's public plugin API (include/qemu/qemu-plugin.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int, void *);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t, void *);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, qemu_plugin_vcpu_tb_trans_cb_t);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *, size_t);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *, enum qemu_plugin_op,
                                                void *, uint64_t);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *, qemu_plugin_vcpu_udata_cb_t,
                                            enum qemu_plugin_cb_flags, void *);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, qemu_plugin_udata_cb_t, void *);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct series {
  uint64_t address;
  uint64_t *counts;
  size_t size, capacity;
};

static uint64_t executed;
static struct series marks = {(uint64_t)-1, NULL, 0, 0}, ops = {(uint64_t)-1, NULL, 0, 0};

static void snapshot(unsigned int vcpu, void *data) {
  struct series *s = data;
  (void)vcpu;
  if (s->size == s->capacity) {
    size_t capacity = s->capacity ? 2 * s->capacity : 256;
    uint64_t *grown = realloc(s->counts, capacity * sizeof *grown);
    if (grown == NULL) return;
    s->counts = grown;
    s->capacity = capacity;
  }
  s->counts[s->size++] = executed;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  for (size_t i = 0, n = qemu_plugin_tb_n_insns(tb); i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t address = qemu_plugin_insn_vaddr(insn) & ~1ull;
    /* registered before the inline add: a snapshot excludes the marker instruction */
    if (address == marks.address)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, snapshot, QEMU_PLUGIN_CB_NO_REGS, &marks);
    if (address == ops.address)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, snapshot, QEMU_PLUGIN_CB_NO_REGS, &ops);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
  }
}

static void on_exit_report(qemu_plugin_id_t id, void *data) {
  (void)id;
  (void)data;
  fprintf(stderr, "icount: total %" PRIu64 "\n", executed);
  for (size_t i = 0; i < marks.size; i++)
    fprintf(stderr, "icount: mark %zu %" PRIu64 "\n", i, marks.counts[i]);
  for (size_t i = 0; i < ops.size; i++)
    fprintf(stderr, "icount: op %zu %" PRIu64 "\n", i, ops.counts[i]);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const qemu_info_t *info,
                                                               int argc, char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "mark=", 5) == 0) marks.address = strtoull(argv[i] + 5, NULL, 0) & ~1ull;
    if (strncmp(argv[i], "op=", 3) == 0) ops.address = strtoull(argv[i] + 3, NULL, 0) & ~1ull;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_report, NULL);
  return 0;
}
