// advisor: port.h for QEMU's MPS2 machines. The console and the input images go through Arm
// semihosting (newlib's librdimon): images are read from "inputs.bin" in QEMU's working
// directory, int8, one after another. advisor_icount_mark() runs right before and after
// each inference; the QEMU instruction-count plugin snapshots its counter there.
#include <cstdio>

#include "port.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"

extern "C" __attribute__((noinline, used)) void advisor_icount_mark(void) {
  __asm__ volatile("" ::: "memory");
}

namespace {
FILE* g_inputs = nullptr;

void WriteLog(const char* text) { fputs(text, stdout); }
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

void PortInferenceBegin() { advisor_icount_mark(); }
void PortInferenceEnd() { advisor_icount_mark(); }
