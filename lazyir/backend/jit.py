"""The process-wide LLVM target, the optimizer pipeline, object emission and loading.

One ``Target`` per process owns the host target machine and one MCJIT engine; every compiled
program is added to that engine as object code (fresh or from the disk cache), under an entry
symbol unique to the program.
"""

from __future__ import annotations

import threading
from functools import cache

import llvmlite
import llvmlite.binding as llvm
from llvmlite import ir

from . import mathlib, runtime


class Target:
    """The host CPU, its target machine, and the process's JIT engine."""

    def __init__(self) -> None:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        # A vectorized remainder loop costs compile time and code size for a few iterations.
        llvm.set_option("", "-enable-epilogue-vectorization=false")
        if "avx512f" in mathlib.host_features():
            # AVX-512 masks cheaply: a vectorized loop runs its last few iterations as one masked
            # vector step instead of a scalar remainder loop, which LLVM would otherwise have to
            # optimize and emit too (a fifth of Black-Scholes' compile time, same run time).
            llvm.set_option("", "-prefer-predicate-over-epilogue=predicate-else-scalar-epilogue")
        mathlib.bind_symbols()
        self.triple = llvm.get_process_triple()
        self.cpu = llvm.get_host_cpu_name()
        self.features = llvm.get_host_cpu_features().flatten()
        self.tm = self._machine()
        self.data_layout = str(self.tm.target_data)
        self.lock = threading.RLock()
        self._warm_up()
        empty = llvm.parse_assembly(f'target triple = "{self.triple}"\n')
        self._engine = llvm.create_mcjit_compiler(empty, self._machine())
        self._load_runtime()

    def _machine(self) -> llvm.TargetMachine:
        target = llvm.Target.from_triple(self.triple)
        return target.create_target_machine(
            cpu=self.cpu, features=self.features, opt=3, reloc="default", codemodel="jitdefault", jit=True
        )

    def _warm_up(self) -> None:
        """Run the pipeline once on a tiny vectorizable loop: LLVM builds its per-target tables on
        first use (~20 ms), which belongs to process start-up rather than to the first program.
        The loop has the attributes of generated functions (their subtarget is built once and
        cached) and a constant operand (the first program that hoists one out of a loop would
        otherwise sort the x86 unfolding table, ~1 ms)."""
        attrs = " ".join(mathlib.tuning_attributes())
        text = f"""target triple = "{self.triple}"
target datalayout = "{self.tm.target_data}"
define void @warm(ptr noalias %a, ptr noalias %o, i64 %n) {attrs} {{
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%j, %loop]
  %p = getelementptr inbounds double, ptr %a, i64 %i
  %x = load double, ptr %p
  %y = fmul double %x, 3.0
  %q = getelementptr inbounds double, ptr %o, i64 %i
  store double %y, ptr %q
  %j = add i64 %i, 1
  %c = icmp slt i64 %j, %n
  br i1 %c, label %loop, label %done
done:
  ret void
}}
"""
        self.optimize_and_emit(text)

    def _load_runtime(self) -> None:
        """Compile the runtime functions once and publish their addresses: program modules only
        declare them, fresh and disk-cached objects alike resolve to this copy."""
        module = ir.Module(name="lazyir_runtime")
        module.triple = self.triple
        module.data_layout = self.data_layout
        runtime.emit_runtime(module, define=True, export=True)
        obj, _ = self.optimize_and_emit(str(module))
        with self.lock:
            self._engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
            self._engine.finalize_object()
            for name in runtime.SIGNATURES:
                llvm.add_symbol(name, self._engine.get_function_address(name))

    @property
    def cache_key(self) -> str:
        """Everything besides the program that decides the object code."""
        return "|".join((llvmlite.__version__, self.triple, self.cpu, self.features, mathlib.config_key()))

    def optimize_and_emit(self, llvm_ir: str, keep_ir: bool = False) -> tuple[bytes, str | None]:
        """Parse, verify and optimize (new pass manager, O3, vectorizers on); object code, and
        the optimized IR when ``keep_ir``."""
        with self.lock:
            mod = llvm.parse_assembly(llvm_ir)
            mod.verify()
            pto = llvm.create_pipeline_tuning_options(speed_level=3)
            pto.loop_vectorization = True
            pto.slp_vectorization = True
            pb = llvm.create_pass_builder(self.tm, pto)
            pb.getModulePassManager().run(mod, pb)
            return self.tm.emit_object(mod), str(mod) if keep_ir else None

    def load(self, obj: bytes, symbol: str) -> int:
        """Add object code to the process's engine; the address of ``symbol``."""
        with self.lock:
            self._engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
            self._engine.finalize_object()
            addr = self._engine.get_function_address(symbol)
            if not addr:
                raise RuntimeError(f"compiled object has no symbol {symbol}")
            return addr


@cache
def target() -> Target:
    return Target()
