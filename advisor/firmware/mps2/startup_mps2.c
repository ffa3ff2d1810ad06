/* advisor: Cortex-M4/M7 startup for QEMU's MPS2 machines. Vector table, FPU on, .data and
 * .bss set up, the stack painted so its peak use can be measured, newlib's semihosting
 * console opened, C++ constructors, main(), then the stack peak and exit(main's status),
 * which semihosting turns into QEMU's exit status. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define STACK_PAINT 0xA5A5A5A5u

extern uint32_t __stack_top__, __stack_limit__;
extern uint32_t __data_load__, __data_start__, __data_end__;
extern uint32_t __bss_start__, __bss_end__;
extern int main(void);
extern void __libc_init_array(void);
extern void initialise_monitor_handles(void);

/* -nostartfiles leaves these out; __libc_init_array and __cxa_atexit need them. */
void _init(void) {}
void _fini(void) {}
void *__dso_handle = &__dso_handle;

static void semihosting_fatal(const char *message) {
  register uint32_t r0 __asm__("r0") = 0x04; /* SYS_WRITE0 */
  register const char *r1 __asm__("r1") = message;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  register uint32_t e0 __asm__("r0") = 0x18; /* SYS_EXIT, ADP_Stopped_RunTimeErrorUnknown */
  register uint32_t e1 __asm__("r1") = 0x20023;
  __asm__ volatile("bkpt 0xAB" : "+r"(e0) : "r"(e1) : "memory");
  for (;;) {
  }
}

void Default_Handler(void) { semihosting_fatal("advisor: error unexpected exception\n"); }
void HardFault_Handler(void) { semihosting_fatal("advisor: error HardFault\n"); }

static uint32_t stack_used_bytes(void) {
  const uint32_t *word = &__stack_limit__;
  while (word < &__stack_top__ && *word == STACK_PAINT) ++word;
  return (uint32_t)((const char *)&__stack_top__ - (const char *)word);
}

__attribute__((noreturn)) void Reset_Handler(void) {
  volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
  *cpacr |= (0xFu << 20); /* CP10, CP11: full access to the FPU */
  __asm__ volatile("dsb\n isb" ::: "memory");

  uint32_t *src = &__data_load__, *dst = &__data_start__;
  while (dst < &__data_end__) *dst++ = *src++;
  for (dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
  /* Paint the stack below this frame (256 B of slack for it). */
  uint32_t *sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (dst = &__stack_limit__; dst < sp - 64;) *dst++ = STACK_PAINT;

  initialise_monitor_handles();
  __libc_init_array();
  int status = main();
  printf("advisor: stack_used_bytes %lu\n", (unsigned long)stack_used_bytes());
  exit(status);
}

typedef void (*vector_t)(void);
__attribute__((section(".vectors"), used)) const vector_t g_vectors[16 + 32] = {
    (vector_t)&__stack_top__,
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler, /* HardFault */
    HardFault_Handler, /* MemManage */
    HardFault_Handler, /* BusFault */
    HardFault_Handler, /* UsageFault */
    0,
    0,
    0,
    0,
    Default_Handler, /* SVC */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler, /* PendSV */
    Default_Handler, /* SysTick */
    [16 ... 47] = Default_Handler,
};
