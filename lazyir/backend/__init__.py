"""The LLVM backend: lowers typed IR to native code with llvmlite. Knows ``lazyir.ir`` only."""
