// advisor: port.h for QEMU's MPS2 machines. The console and the input images go through Arm
// semihosting (newlib's librdimon): images are read from "inputs.bin" in QEMU's working
// directory, int8, one after another. advisor_icount_mark() runs right before and after
// each inference, advisor_op_mark() before and after each op of the first inference; the
// QEMU instruction-count plugin snapshots its counter there. The op names of that inference
// are printed after it, in order.
#include <cstdio>

#include "port.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"

extern "C" __attribute__((noinline, used)) void advisor_icount_mark(void) {
  __asm__ volatile("" ::: "memory");
}

extern "C" __attribute__((noinline, used)) void advisor_op_mark(void) {
  __asm__ volatile("" ::: "memory");
}

namespace {
constexpr int kMaxOps = 1024;

FILE* g_inputs = nullptr;
const char* g_op_names[kMaxOps];
int g_ops = 0;
bool g_profiling = false;
bool g_profiled = false;

void WriteLog(const char* text) { fputs(text, stdout); }

class OpMarks : public tflite::MicroProfilerInterface {
 public:
  uint32_t BeginEvent(const char* tag) override {
    if (!g_profiling) return 0;
    if (g_ops < kMaxOps) g_op_names[g_ops] = tag;
    ++g_ops;
    advisor_op_mark();
    return 0;
  }
  void EndEvent(uint32_t) override {
    if (g_profiling) advisor_op_mark();
  }
};

OpMarks g_op_marks;
}  // namespace

void PortInit() {
  RegisterDebugLogCallback(WriteLog);
  g_inputs = fopen("inputs.bin", "rb");
  if (g_inputs == nullptr) fputs("advisor: error cannot open inputs.bin\n", stdout);
}

bool PortReadInput(int8_t* input, int size) {
  return g_inputs != nullptr &&
         fread(input, 1, static_cast<size_t>(size), g_inputs) == static_cast<size_t>(size);
}

void PortInferenceBegin() {
  g_profiling = !g_profiled;
  advisor_icount_mark();
}

void PortInferenceEnd() {
  advisor_icount_mark();
  if (!g_profiling) return;
  g_profiling = false;
  g_profiled = true;
  for (int i = 0; i < g_ops && i < kMaxOps; ++i) {
    printf("advisor: op_name %d %s\n", i, g_op_names[i] ? g_op_names[i] : "?");
  }
}

tflite::MicroProfilerInterface* PortProfiler() { return &g_op_marks; }
