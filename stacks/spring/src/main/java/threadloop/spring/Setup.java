package threadloop.spring;

import threadloop.jvm.Cpu;
import threadloop.jvm.PinningCounter;

/** What the stack measured and was told before Spring started: one bean, registered by Main. */
record Setup(Options options, Cpu cpu, PinningCounter pinning) {
}
