//! Translation of a [`Shape`] to Cranelift IR, and its compilation to a native function.
//!
//! The function is one loop over the block's elements, two at a time as the lanes of `f64x2`
//! vectors (a register is a Cranelift variable of that type; constants are loaded once from the
//! `consts` argument): load, run each stage's instructions (natively where a vector instruction
//! gives each lane the scalar result, otherwise lane by lane with the scalar code), and-in each
//! filter's truthiness as a mask, and store the lanes in order at the output cursor, which each
//! surviving lane advances (branch-free). An odd last element runs through the scalar code: one
//! value per register, leaving early at a falsy intermediate filter.
//!
//! `%` by a constant needs no division ([`Gen::rem_by_constant`], which proves it exact).
//!
//! No instruction that can trap is emitted: float-to-int conversions are the saturating ones,
//! integer division is never used, and memory accesses stay within what
//! [`Kernel::run`](super::Kernel::run) checks.

use cranelift_codegen::entity::packed_option::ReservedValue;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F64, F64X2, I32, I64};
use cranelift_codegen::ir::{
    AbiParam, BlockArg, InstBuilder, MemFlags, SigRef, Signature, StackSlotData, StackSlotKind,
    Value,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module as _};

use std::collections::HashMap;

use super::{divisor_consts, divisor_pair, pair_offset, shims, KernelFn, Shape, SrcKind, BAIL};
use crate::par::program::{Args, Instr, Kind, Op, Program, R_ARG0, R_ARG1, R_CONST};

/// A finalized JIT module; its code and data are freed when it drops.
pub(crate) struct Module(Option<JITModule>);

// SAFETY: after `compile` returns, the module is never used again except to free its memory once,
// in `Drop` (with `&mut self`, so by one thread). The raw pointers it holds (symbol addresses,
// code ranges) are process-wide addresses, valid from any thread.
unsafe impl Send for Module {}
// SAFETY: no method reads the module through `&self` (see `Send` above).
unsafe impl Sync for Module {}

impl Drop for Module {
    fn drop(&mut self) {
        if let Some(m) = self.0.take() {
            // SAFETY: the module is dropped with the last `Arc<Kernel>` (its only owner), so no
            // job can still run its code, and no function pointer into it survives the kernel.
            unsafe { m.free_memory() };
        }
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Compiles `shape` to a native function.
pub(super) fn compile(shape: &Shape) -> Result<(Fns, Module), String> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(err)?;
    flags.set("use_colocated_libcalls", "false").map_err(err)?;
    flags.set("is_pic", "false").map_err(err)?;
    let isa = cranelift_native::builder()
        .map_err(err)?
        .finish(settings::Flags::new(flags))
        .map_err(err)?;
    let mut owner = Module(Some(JITModule::new(JITBuilder::with_isa(
        isa,
        default_libcall_names(),
    ))));
    let Some(module) = owner.0.as_mut() else {
        return Err("no module".to_owned());
    };
    // Where the stages have rare slow paths (`%` outside integers, ToInt32 of huge values), a
    // speculative version leaves them out: it gives up (returns `BAIL`) at the first element
    // that needs one, and the full version redoes the block. The hot loop then holds no call, so
    // its values stay in registers instead of being spilled around the call.
    let speculate = shape.stages.iter().flat_map(|p| &p.code).any(|i| {
        matches!(
            i.op,
            Op::Mod
                | Op::BitNot
                | Op::BitAnd
                | Op::BitOr
                | Op::BitXor
                | Op::Shl
                | Op::Sar
                | Op::Shr
                | Op::Imul
        )
    });
    let full = define(module, shape, false)?;
    let fast = if speculate {
        Some(define(module, shape, true)?)
    } else {
        None
    };
    module.finalize_definitions().map_err(err)?;
    let entry = |id| {
        let code = module.get_finalized_function(id);
        // SAFETY: `code` is the entry of a function just compiled with exactly `KernelFn`'s
        // signature (eight parameters of these types, one u64 result, the platform's C
        // convention).
        unsafe { std::mem::transmute::<*const u8, KernelFn>(code) }
    };
    let full = entry(full);
    let fast = fast.map(entry);
    Ok((
        Fns {
            first: fast.unwrap_or(full),
            full: fast.map(|_| full),
        },
        owner,
    ))
}

/// A kernel's entry points: `first` runs a block; where it returns [`BAIL`], `full` redoes it.
pub(crate) struct Fns {
    pub(crate) first: KernelFn,
    pub(crate) full: Option<KernelFn>,
}

/// Compiles one version of `shape` into `module`.
fn define(
    module: &mut JITModule,
    shape: &Shape,
    speculate: bool,
) -> Result<cranelift_module::FuncId, String> {
    let ptr = module.target_config().pointer_type();
    let mut ctx = module.make_context();
    let sig = &mut ctx.func.signature;
    for ty in [ptr, ptr, I64, I64, ptr, ptr, F64, F64, ptr] {
        sig.params.push(AbiParam::new(ty));
    }
    sig.returns.push(AbiParam::new(I64));
    let name = if speculate {
        "weft_par_kernel_fast"
    } else {
        "weft_par_kernel"
    };
    let id = module
        .declare_function(name, Linkage::Local, &ctx.func.signature)
        .map_err(err)?;
    let call_conv = module.isa().default_call_conv();
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let sigs = Sigs::new(&mut b, call_conv, ptr);
        let bail = speculate.then(|| b.create_block());
        Gen {
            b,
            regs: Vec::new(),
            lit: Literals::default(),
            divisors: HashMap::new(),
            vregs: Vec::new(),
            vlit: Literals::default(),
            vdivisors: HashMap::new(),
            vconds: HashMap::new(),
            conds: HashMap::new(),
            bail,
            sigs,
            ptr,
        }
        .body(shape)?;
    }
    module.define_function(id, &mut ctx).map_err(err)?;
    module.clear_context(&mut ctx);
    Ok(id)
}

/// The signatures of the shims.
struct Sigs {
    f_f: SigRef,
    ff_f: SigRef,
    f_i32: SigRef,
    pn_f: SigRef,
}

impl Sigs {
    fn new(
        b: &mut FunctionBuilder<'_>,
        cc: cranelift_codegen::isa::CallConv,
        ptr: ir::Type,
    ) -> Self {
        let mut make = |params: &[ir::Type], ret: ir::Type| {
            let mut s = Signature::new(cc);
            s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
            s.returns.push(AbiParam::new(ret));
            b.import_signature(s)
        };
        Sigs {
            f_f: make(&[F64], F64),
            ff_f: make(&[F64, F64], F64),
            f_i32: make(&[F64], I32),
            pn_f: make(&[ptr, I64], F64),
        }
    }
}

use cranelift_codegen::ir;

/// Floating-point literals that the generated code loads once, in its entry block, instead of
/// writing them as `f64const`s, which Cranelift materialises again at each use (`fabs` and
/// `fcopysign` rebuild their masks in every iteration): the `|x|` mask, the sign mask, `0.0`
/// and `1.0`, each twice (a vector of both lanes; scalar code reads the first), then the vectors
/// `[0, 1]` and `[2, 2]`.
static LITERALS: Pairs = Pairs([
    f64::from_bits(0x7fff_ffff_ffff_ffff),
    f64::from_bits(0x7fff_ffff_ffff_ffff),
    f64::from_bits(0x8000_0000_0000_0000),
    f64::from_bits(0x8000_0000_0000_0000),
    0.0,
    0.0,
    1.0,
    1.0,
    // The lanes' offsets, and their step per iteration.
    0.0,
    1.0,
    2.0,
    2.0,
]);

/// 16-byte aligned pairs of values.
#[repr(C, align(16))]
struct Pairs([f64; 12]);

/// How many elements the main loop takes at a time: the lanes of its `f64x2` vectors (SSE2;
/// Cranelift 0.125 has no wider vectors on x64).
const LANES: usize = 2;

/// The kernel's source and output arguments.
struct Io {
    src: Value,
    start: Value,
    step: Value,
    /// `start` and `step` as vectors.
    vstart: Value,
    vstep: Value,
    out_x: Value,
    out_i: Value,
}

/// The loaded [`LITERALS`].
#[derive(Clone, Copy)]
struct Literals {
    abs_mask: Value,
    sign_mask: Value,
    zero: Value,
    one: Value,
}

impl Default for Literals {
    /// Placeholders, replaced by [`Gen::literals`] before any use.
    fn default() -> Self {
        let v = Value::reserved_value();
        Literals {
            abs_mask: v,
            sign_mask: v,
            zero: v,
            one: v,
        }
    }
}

/// A constant divisor of `%`, as [`Gen::rem_by_constant`] uses it: loaded in the entry block
/// from the kernel's `pairs` argument ([`super::divisor_values`], computed by the caller).
/// Computed in the entry block instead, these values were redone in every iteration: Cranelift
/// 0.125's egraph placed them at their use inside the loop and hoisted none of them (its
/// `elaborate_licm_hoist` count was 0 for these functions).
#[derive(Clone, Copy)]
struct Divisor {
    /// `|c|`.
    abs: Value,
    /// `1 / |c|`, rounded.
    inv: Value,
    /// `2^52` where `c` is an integer with `1 <= |c| < 2^52`, else `0`: the dividends below it
    /// in magnitude take the path.
    lim: Value,
}

struct Gen<'a> {
    b: FunctionBuilder<'a>,
    regs: Vec<Variable>,
    /// The values of [`LITERALS`], loaded once before the loop (see there).
    lit: Literals,
    /// Per constant register that is the divisor of a `%` (keyed by register), what `%`'s
    /// division-free path needs of it, computed once before the loop.
    divisors: HashMap<u16, Divisor>,
    /// The registers as vectors of [`LANES`] values (the main loop's).
    vregs: Vec<Variable>,
    /// [`LITERALS`] as vectors.
    vlit: Literals,
    /// `divisors` as vectors.
    vdivisors: HashMap<u16, Divisor>,
    /// As `conds`, for the masks behind vector booleans.
    vconds: HashMap<Value, Value>,
    /// The condition behind each boolean made by [`boolean`](Self::boolean), so that testing
    /// the truthiness of a comparison's result (a filter `x > t`, a ternary's test) reuses the
    /// comparison instead of comparing its 0/1 again (the same truth value exactly).
    conds: HashMap<Value, Value>,
    /// In a speculative version, the block that gives up ([`BAIL`]).
    bail: Option<ir::Block>,
    sigs: Sigs,
    ptr: ir::Type,
}

impl Gen<'_> {
    fn body(mut self, shape: &Shape) -> Result<(), String> {
        let entry = self.b.create_block();
        let vhead = self.b.create_block();
        let vbody = self.b.create_block();
        let tail = self.b.create_block();
        let sbody = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let p = self.b.block_params(entry).to_vec();
        let (consts, src, lo, n, out_x, out_i, start, step, pairs) =
            (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]);
        let pair = |g: &mut Self, ty: ir::Type, slot: usize| {
            let flags = MemFlags::new().with_notrap();
            g.b.ins().load(ty, flags, pairs, pair_offset(slot))
        };
        let io = Io {
            src,
            start,
            step,
            vstart: pair(&mut self, F64X2, 0),
            vstep: pair(&mut self, F64X2, 1),
            out_x,
            out_i,
        };

        let zero = self.b.ins().f64const(0.0);
        let vzero = self.b.ins().splat(F64X2, zero);
        for r in 0..shape.nregs {
            let v = self.b.declare_var(F64);
            let vv = self.b.declare_var(F64X2);
            self.regs.push(v);
            self.vregs.push(vv);
            let k = r.wrapping_sub(R_CONST as usize);
            let (init, vinit) = if r >= R_CONST as usize && k < shape.nconsts {
                let off = i32::try_from(k * 8).map_err(err)?;
                let c = self.b.ins().load(F64, MemFlags::trusted(), consts, off);
                (c, self.b.ins().splat(F64X2, c))
            } else {
                (zero, vzero)
            };
            self.b.def_var(v, init);
            self.b.def_var(vv, vinit);
        }
        (self.lit, self.vlit) = self.literals();
        for (slot, k) in divisor_consts(shape).into_iter().enumerate() {
            let mut at = |ty| Divisor {
                abs: pair(&mut self, ty, divisor_pair(slot, 0)),
                inv: pair(&mut self, ty, divisor_pair(slot, 1)),
                lim: pair(&mut self, ty, divisor_pair(slot, 2)),
            };
            let d = at(F64);
            let vd = at(F64X2);
            self.divisors.insert(R_CONST + k as u16, d);
            self.vdivisors.insert(R_CONST + k as u16, vd);
        }
        let j = self.b.declare_var(I64);
        let kept = self.b.declare_var(I64);
        let zero_i = self.b.ins().iconst(I64, 0);
        self.b.def_var(j, zero_i);
        self.b.def_var(kept, zero_i);
        let vbase = pair(&mut self, F64X2, 2);
        let lit = self.b.ins().iconst(self.ptr, LITERALS.0.as_ptr() as i64);
        let flags = MemFlags::trusted().with_readonly();
        let vtwos = self.b.ins().load(F64X2, flags, lit, 16 * 5);
        let voff = self.b.declare_var(F64X2);
        let lanes = self.b.ins().load(F64X2, flags, lit, 16 * 4);
        self.b.def_var(voff, lanes);
        self.b.ins().jump(vhead, &[]);

        // Two elements at a time while two remain. (Unrolled to two vectors per iteration, the
        // loop was no faster: case a and c even, d slower, on examples/par_engines.)
        self.b.switch_to_block(vhead);
        let jv = self.b.use_var(j);
        let j2 = self.b.ins().iadd_imm(jv, LANES as i64);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, j2, n);
        self.b.ins().brif(more, vbody, &[], tail, &[]);
        self.b.switch_to_block(vbody);
        let jv = self.b.use_var(j);
        let idx = self.b.ins().iadd(lo, jv);
        // The indices as numbers, `lo + j` and `lo + j + 1`, as the interpreter computes them
        // (`Source::load`: `lo as f64` plus the offset in the block; exact, as a source has fewer
        // than 2^53 elements), with no integer conversion in the loop: the offsets are a vector
        // that grows by 2 per iteration.
        let off = self.b.use_var(voff);
        let i = self.b.ins().fadd(vbase, off);
        self.vector_element(shape, &io, idx, i, kept)?;
        let jv = self.b.use_var(j);
        let jv = self.b.ins().iadd_imm(jv, LANES as i64);
        self.b.def_var(j, jv);
        let off = self.b.ins().fadd(off, vtwos);
        self.b.def_var(voff, off);
        self.b.ins().jump(vhead, &[]);

        // The last element, where `n` is odd.
        self.b.switch_to_block(tail);
        let jv = self.b.use_var(j);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, jv, n);
        self.b.ins().brif(more, sbody, &[], exit, &[]);
        self.b.switch_to_block(sbody);
        let jv = self.b.use_var(j);
        let idx = self.b.ins().iadd(lo, jv);
        self.scalar_element(shape, &io, idx, kept, exit)?;
        self.b.ins().jump(exit, &[]);

        self.b.switch_to_block(exit);
        let kv = self.b.use_var(kept);
        self.b.ins().return_(&[kv]);
        if let Some(bail) = self.bail {
            self.b.switch_to_block(bail);
            self.b.set_cold_block(bail);
            let v = self.b.ins().iconst(I64, BAIL as i64);
            self.b.ins().return_(&[v]);
        }
        self.b.seal_all_blocks();
        self.b.finalize();
        Ok(())
    }

    /// One element (source index `idx`) through the stages, one value at a time: a falsy
    /// intermediate filter leaves for `next`; the value (and index) is stored at the output
    /// cursor `kept`, which a last filter advances by its truthiness (branch-free).
    fn scalar_element(
        &mut self,
        shape: &Shape,
        io: &Io,
        idx: Value,
        kept: Variable,
        next: ir::Block,
    ) -> Result<(), String> {
        let x = self.load(shape.src, io.src, idx, io.start, io.step);
        let i = self.b.ins().fcvt_from_sint(F64, idx);
        self.b.def_var(self.regs[R_ARG0 as usize], x);
        self.b.def_var(self.regs[R_ARG1 as usize], i);
        let last = shape.stages.len().wrapping_sub(1);
        let mut advance: Option<Value> = None;
        for (s, stage) in shape.stages.iter().enumerate() {
            self.program(stage)?;
            let result = self.b.use_var(self.regs[stage.result as usize]);
            match stage.kind {
                Kind::Map => self.b.def_var(self.regs[R_ARG0 as usize], result),
                Kind::Filter => {
                    let t = self.truthy(result);
                    if s == last {
                        advance = Some(self.b.ins().uextend(I64, t));
                    } else {
                        let go = self.b.create_block();
                        self.b.ins().brif(t, go, &[], next, &[]);
                        self.b.switch_to_block(go);
                    }
                }
                Kind::Reduce | Kind::Some | Kind::Every | Kind::Key => {
                    return Err("a terminal closure among the stages".to_owned())
                }
            }
        }
        let x = self.b.use_var(self.regs[R_ARG0 as usize]);
        let kv = self.b.use_var(kept);
        if !shape.counts_only {
            let off = self.b.ins().ishl_imm(kv, 3);
            let at = self.b.ins().iadd(io.out_x, off);
            self.b.ins().store(MemFlags::trusted(), x, at, 0);
            if shape.keep_index {
                let at = self.b.ins().iadd(io.out_i, off);
                self.b.ins().store(MemFlags::trusted(), i, at, 0);
            }
        }
        let kv = match advance {
            Some(a) => self.b.ins().iadd(kv, a),
            None => self.b.ins().iadd_imm(kv, 1),
        };
        self.b.def_var(kept, kv);
        Ok(())
    }

    /// Elements `idx` and `idx + 1` (their indices as numbers in `i`) through the stages, as the
    /// two lanes of vectors: every
    /// stage runs on both lanes (the ops are pure and total, so a lane that an intermediate
    /// filter rejected only computes a value nobody keeps), the filters' truthiness is and-ed
    /// into a mask, and the lanes are stored in order at the output cursor, which each
    /// surviving lane advances.
    fn vector_element(
        &mut self,
        shape: &Shape,
        io: &Io,
        idx: Value,
        i: Value,
        kept: Variable,
    ) -> Result<(), String> {
        let x = self.vload(shape.src, io, idx, i);
        self.b.def_var(self.vregs[R_ARG0 as usize], x);
        self.b.def_var(self.vregs[R_ARG1 as usize], i);
        let mut live: Option<Value> = None;
        for stage in &shape.stages {
            for ins in &stage.code {
                let v = self.vinstr(ins)?;
                self.b.def_var(self.vregs[ins.dst as usize], v);
            }
            let result = self.b.use_var(self.vregs[stage.result as usize]);
            match stage.kind {
                Kind::Map => self.b.def_var(self.vregs[R_ARG0 as usize], result),
                Kind::Filter => {
                    let t = self.vtruthy(result);
                    live = Some(match live {
                        Some(l) => self.b.ins().band(l, t),
                        None => t,
                    });
                }
                Kind::Reduce | Kind::Some | Kind::Every | Kind::Key => {
                    return Err("a terminal closure among the stages".to_owned())
                }
            }
        }
        let x = self.b.use_var(self.vregs[R_ARG0 as usize]);
        let kv = self.b.use_var(kept);
        let flags = MemFlags::new().with_notrap();
        if shape.counts_only {
            // Only the count: the mask's lanes (sign bits) counted, nothing stored.
            let kv = match live {
                Some(live) => {
                    let bits = self.b.ins().vhigh_bits(I64, live);
                    let c = self.b.ins().popcnt(bits);
                    self.b.ins().iadd(kv, c)
                }
                None => self.b.ins().iadd_imm(kv, LANES as i64),
            };
            self.b.def_var(kept, kv);
            return Ok(());
        }
        let Some(live) = live else {
            let off = self.b.ins().ishl_imm(kv, 3);
            let at = self.b.ins().iadd(io.out_x, off);
            self.b.ins().store(flags, x, at, 0);
            if shape.keep_index {
                let at = self.b.ins().iadd(io.out_i, off);
                self.b.ins().store(flags, i, at, 0);
            }
            let kv = self.b.ins().iadd_imm(kv, LANES as i64);
            self.b.def_var(kept, kv);
            return Ok(());
        };
        let mut kv = kv;
        for lane in 0..LANES as u8 {
            let off = self.b.ins().ishl_imm(kv, 3);
            let at = self.b.ins().iadd(io.out_x, off);
            let xl = self.b.ins().extractlane(x, lane);
            self.b.ins().store(flags, xl, at, 0);
            if shape.keep_index {
                let at = self.b.ins().iadd(io.out_i, off);
                let il = self.b.ins().extractlane(i, lane);
                self.b.ins().store(flags, il, at, 0);
            }
            // A lane of the mask is 0 or -1.
            let m = self.b.ins().extractlane(live, lane);
            kv = self.b.ins().isub(kv, m);
        }
        self.b.def_var(kept, kv);
        Ok(())
    }

    /// Elements `idx` and `idx + 1` of the source (as [`load`](Self::load) reads them), as a
    /// vector; `i` holds their indices.
    fn vload(&mut self, kind: SrcKind, io: &Io, idx: Value, i: Value) -> Value {
        match kind {
            SrcKind::F64 => {
                let off = self.b.ins().ishl_imm(idx, 3);
                let at = self.b.ins().iadd(io.src, off);
                self.b
                    .ins()
                    .load(F64X2, MemFlags::new().with_notrap(), at, 0)
            }
            SrcKind::Range => {
                let d = self.b.ins().fmul(i, io.vstep);
                self.b.ins().fadd(io.vstart, d)
            }
            kind => {
                let idx1 = self.b.ins().iadd_imm(idx, 1);
                let x0 = self.load(kind, io.src, idx, io.start, io.step);
                let x1 = self.load(kind, io.src, idx1, io.start, io.step);
                self.pair(x0, x1)
            }
        }
    }

    /// The vector `[a, b]`.
    fn pair(&mut self, a: Value, b: Value) -> Value {
        let v = self.b.ins().scalar_to_vector(F64X2, a);
        self.b.ins().insertlane(v, b, 1)
    }

    /// A vector's lanes as a float vector's bits (masks to `band`/`bitselect` operands).
    fn as_f64x2(&mut self, v: Value) -> Value {
        let flags = MemFlags::new().with_endianness(ir::Endianness::Little);
        self.b.ins().bitcast(F64X2, flags, v)
    }

    /// `ToBoolean` per lane: a mask of the lanes that are neither `±0` nor NaN.
    fn vtruthy(&mut self, x: Value) -> Value {
        if let Some(&c) = self.vconds.get(&x) {
            return c;
        }
        let ord = self.b.ins().fcmp(FloatCC::Equal, x, x);
        let nz = self.b.ins().fcmp(FloatCC::NotEqual, x, self.vlit.zero);
        self.b.ins().band(ord, nz)
    }

    /// JavaScript booleans (`1.0` or `0.0` per lane) from a mask.
    fn vboolean(&mut self, m: Value) -> Value {
        let mf = self.as_f64x2(m);
        let v = self.b.ins().band(mf, self.vlit.one);
        self.vconds.insert(v, m);
        v
    }

    /// One instruction on both lanes: natively where the operation has a vector instruction of
    /// the same IEEE result, otherwise lane by lane with the scalar code.
    fn vinstr(&mut self, ins: &Instr) -> Result<Value, String> {
        let vreg = |g: &mut Self, r: u16| g.b.use_var(g.vregs[r as usize]);
        match (&ins.args, ins.op) {
            (Args::One(a), op) => {
                let x = vreg(self, *a);
                let v = match op {
                    Op::Mov => x,
                    Op::Neg => self.b.ins().fneg(x),
                    Op::Abs => self.b.ins().band(x, self.vlit.abs_mask),
                    Op::Ceil => self.b.ins().ceil(x),
                    Op::Floor => self.b.ins().floor(x),
                    Op::Trunc => self.b.ins().trunc(x),
                    Op::Sqrt => self.b.ins().sqrt(x),
                    Op::Not => {
                        let t = self.vtruthy(x);
                        let f = self.b.ins().bnot(t);
                        self.vboolean(f)
                    }
                    Op::IsNaN => {
                        let m = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                        self.vboolean(m)
                    }
                    _ => return self.per_lane(ins),
                };
                Ok(v)
            }
            (Args::Two(a, c), op) => {
                let (x, y) = (vreg(self, *a), vreg(self, *c));
                let cmp = |g: &mut Self, cc: FloatCC| {
                    let m = g.b.ins().fcmp(cc, x, y);
                    g.vboolean(m)
                };
                let v = match op {
                    Op::Add => self.b.ins().fadd(x, y),
                    Op::Sub => self.b.ins().fsub(x, y),
                    Op::Mul => self.b.ins().fmul(x, y),
                    Op::Div => self.b.ins().fdiv(x, y),
                    Op::Lt => cmp(self, FloatCC::LessThan),
                    Op::Le => cmp(self, FloatCC::LessThanOrEqual),
                    Op::Gt => cmp(self, FloatCC::GreaterThan),
                    Op::Ge => cmp(self, FloatCC::GreaterThanOrEqual),
                    Op::Eq => cmp(self, FloatCC::Equal),
                    Op::Ne => cmp(self, FloatCC::NotEqual),
                    Op::Mod => match self.vdivisors.get(c).copied() {
                        Some(d) => self.vrem_by_constant(ins, x, d)?,
                        None => return self.per_lane(ins),
                    },
                    _ => return self.per_lane(ins),
                };
                Ok(v)
            }
            (Args::Three(c, a, e), Op::Select) => {
                let (c, a, e) = (vreg(self, *c), vreg(self, *a), vreg(self, *e));
                let t = self.vtruthy(c);
                let tf = self.as_f64x2(t);
                Ok(self.b.ins().bitselect(tf, a, e))
            }
            _ => self.per_lane(ins),
        }
    }

    /// `ins` lane by lane with the scalar code.
    fn per_lane(&mut self, ins: &Instr) -> Result<Value, String> {
        let regs: Vec<u16> = match &ins.args {
            Args::One(a) => vec![*a],
            Args::Two(a, c) => vec![*a, *c],
            Args::Three(c, a, e) => vec![*c, *a, *e],
            Args::Many(regs) => regs.to_vec(),
        };
        let vals: Vec<Value> = regs
            .iter()
            .map(|&r| self.b.use_var(self.vregs[r as usize]))
            .collect();
        let mut lanes = [None; LANES];
        for (lane, out) in lanes.iter_mut().enumerate() {
            let args: Vec<Value> = vals
                .iter()
                .map(|&v| self.b.ins().extractlane(v, lane as u8))
                .collect();
            *out = Some(self.scalar_instr(ins, &args)?);
        }
        let [Some(a), Some(b)] = lanes else {
            return Err("no lanes".to_owned());
        };
        Ok(self.pair(a, b))
    }

    /// [`rem_by_constant`](Self::rem_by_constant) on both lanes (the same operations, lane by
    /// lane); where a lane is outside the path, a speculative version gives up and the full one
    /// redoes both lanes with the scalar code.
    fn vrem_by_constant(&mut self, ins: &Instr, a: Value, d: Divisor) -> Result<Value, String> {
        let l = self.vlit;
        let aa = self.b.ins().band(a, l.abs_mask);
        let p = self.b.ins().fmul(aa, d.inv);
        let q = self.b.ins().trunc(p);
        let qc = self.b.ins().fmul(q, d.abs);
        let r = self.b.ins().fsub(aa, qc);
        let neg = self.b.ins().fcmp(FloatCC::LessThan, r, l.zero);
        let neg = self.as_f64x2(neg);
        let up = self.b.ins().band(neg, d.abs);
        let r = self.b.ins().fadd(r, up);
        let over = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, r, d.abs);
        let over = self.as_f64x2(over);
        let down = self.b.ins().band(over, d.abs);
        let r = self.b.ins().fsub(r, down);
        let sign = self.b.ins().band(a, l.sign_mask);
        let fast = self.b.ins().bor(r, sign);
        // Any lane outside the path (the negated comparison: unordered or not below).
        let out = self
            .b
            .ins()
            .fcmp(FloatCC::UnorderedOrGreaterThanOrEqual, aa, d.lim);
        let any = self.b.ins().vany_true(out);
        if let Some(bail) = self.bail {
            let go = self.b.create_block();
            self.b.ins().brif(any, bail, &[], go, &[]);
            self.b.switch_to_block(go);
            return Ok(fast);
        }
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, F64X2);
        self.b
            .ins()
            .brif(any, slow, &[], join, &[BlockArg::Value(fast)]);
        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        let v = self.per_lane(ins)?;
        self.b.ins().jump(join, &[BlockArg::Value(v)]);
        self.b.switch_to_block(join);
        Ok(self.b.block_params(join)[0])
    }

    /// Element `idx` of the source as a number (as `Source::load` widens it).
    fn load(&mut self, kind: SrcKind, src: Value, idx: Value, start: Value, step: Value) -> Value {
        let f = MemFlags::trusted();
        let at = |g: &mut Self, size: i64| {
            let off = g.b.ins().imul_imm(idx, size);
            g.b.ins().iadd(src, off)
        };
        match kind {
            SrcKind::F64 => {
                let a = at(self, 8);
                self.b.ins().load(F64, f, a, 0)
            }
            SrcKind::F32 => {
                let a = at(self, 4);
                let v = self.b.ins().load(F32, f, a, 0);
                self.b.ins().fpromote(F64, v)
            }
            SrcKind::Range => {
                // start + (lo + j) * step, the index exact in f64.
                let k = self.b.ins().fcvt_from_sint(F64, idx);
                let d = self.b.ins().fmul(k, step);
                self.b.ins().fadd(start, d)
            }
            int => {
                let v = match int {
                    SrcKind::I8 => {
                        let a = at(self, 1);
                        self.b.ins().sload8(I64, f, a, 0)
                    }
                    SrcKind::U8 => {
                        let a = at(self, 1);
                        self.b.ins().uload8(I64, f, a, 0)
                    }
                    SrcKind::I16 => {
                        let a = at(self, 2);
                        self.b.ins().sload16(I64, f, a, 0)
                    }
                    SrcKind::U16 => {
                        let a = at(self, 2);
                        self.b.ins().uload16(I64, f, a, 0)
                    }
                    SrcKind::I32 => {
                        let a = at(self, 4);
                        self.b.ins().sload32(f, a, 0)
                    }
                    _ => {
                        let a = at(self, 4);
                        self.b.ins().uload32(f, a, 0)
                    }
                };
                // Every 32-bit integer is exact in f64.
                self.b.ins().fcvt_from_sint(F64, v)
            }
        }
    }

    fn program(&mut self, prog: &Program) -> Result<(), String> {
        for ins in &prog.code {
            let v = self.instr(ins)?;
            self.b.def_var(self.regs[ins.dst as usize], v);
        }
        Ok(())
    }

    fn reg(&mut self, r: u16) -> Value {
        self.b.use_var(self.regs[r as usize])
    }

    /// `ToBoolean`: `x` is neither `±0` nor NaN (an ordered inequality).
    fn truthy(&mut self, x: Value) -> Value {
        if let Some(&c) = self.conds.get(&x) {
            return c;
        }
        let z = self.b.ins().f64const(0.0);
        self.b.ins().fcmp(FloatCC::OrderedNotEqual, x, z)
    }

    /// A JavaScript boolean (`1.0` or `0.0`) from a condition.
    fn boolean(&mut self, c: Value) -> Value {
        let one = self.b.ins().f64const(1.0);
        let z = self.b.ins().f64const(0.0);
        let v = self.fsel(c, one, z);
        self.conds.insert(v, c);
        v
    }

    /// `c ? a : e` for floats without a branch (Cranelift lowers a float `select` to a jump,
    /// which data-dependent conditions mispredict): an integer `select` (a `cmov`) on the bits.
    fn fsel(&mut self, c: Value, a: Value, e: Value) -> Value {
        let ai = self.b.ins().bitcast(I64, MemFlags::new(), a);
        let ei = self.b.ins().bitcast(I64, MemFlags::new(), e);
        let r = self.b.ins().select(c, ai, ei);
        self.b.ins().bitcast(F64, MemFlags::new(), r)
    }

    fn call(&mut self, sig: SigRef, f: usize, args: &[Value]) -> Value {
        let callee = self.b.ins().iconst(I64, f as i64);
        let call = self.b.ins().call_indirect(sig, callee, args);
        self.b.inst_results(call)[0]
    }

    fn call1(&mut self, f: extern "C" fn(f64) -> f64, x: Value) -> Value {
        self.call(self.sigs.f_f, f as usize, &[x])
    }

    fn call2(&mut self, f: extern "C" fn(f64, f64) -> f64, a: Value, c: Value) -> Value {
        self.call(self.sigs.ff_f, f as usize, &[a, c])
    }

    /// `ToInt32` as `js::to_int32` computes it: below 2^63 in magnitude, the saturating
    /// conversion to i64 (Rust's `as i64`, the same instruction) and its low 32 bits; otherwise
    /// (and for NaN, which fails the comparison) the shim.
    fn int32(&mut self, x: Value) -> Value {
        let t = self.b.ins().fcvt_to_sint_sat(I64, x);
        let ax = self.b.ins().fabs(x);
        let lim = self.b.ins().f64const(9_223_372_036_854_775_808.0);
        let small = self.b.ins().fcmp(FloatCC::LessThan, ax, lim);
        let fast = self.b.ins().ireduce(I32, t);
        if let Some(bail) = self.bail {
            let go = self.b.create_block();
            self.b.ins().brif(small, go, &[], bail, &[]);
            self.b.switch_to_block(go);
            return fast;
        }
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, I32);
        self.b
            .ins()
            .brif(small, join, &[BlockArg::Value(fast)], slow, &[]);
        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        let f: extern "C" fn(f64) -> i32 = shims::to_int32;
        let r = self.call(self.sigs.f_i32, f as usize, &[x]);
        self.b.ins().jump(join, &[BlockArg::Value(r)]);
        self.b.switch_to_block(join);
        self.b.block_params(join)[0]
    }

    fn num_of_i32(&mut self, v: Value) -> Value {
        let w = self.b.ins().sextend(I64, v);
        self.b.ins().fcvt_from_sint(F64, w)
    }

    fn num_of_u32(&mut self, v: Value) -> Value {
        let w = self.b.ins().uextend(I64, v);
        self.b.ins().fcvt_from_sint(F64, w)
    }

    /// `a % c` as `js::rem`. A constant divisor (a capture or a literal) takes the path without a
    /// division of [`rem_by_constant`](Self::rem_by_constant). Otherwise, where both operands are
    /// integers below 2^53 in magnitude and `c != 0`, `(a - trunc(a / c) * c).copysign(a)`:
    /// `js::rem_integral` with `trunc` for the round trip through i64 (equal there: `|a / c| <=
    /// |a| < 2^53`, so the truncation is exact either way), exactly as the interpreter's vector
    /// kernel computes it (`rem_ok::<true>` in `eval/kernel.rs`). Any other operands take the
    /// shim.
    fn rem(&mut self, a: Value, c: Value, c_reg: u16) -> Value {
        if let Some(d) = self.divisors.get(&c_reg).copied() {
            return self.rem_by_constant(a, c, d);
        }
        let c_ok = self.divisor_ok(c);
        let safe = self.b.ins().f64const(9_007_199_254_740_992.0);
        let aa = self.b.ins().fabs(a);
        let a_small = self.b.ins().fcmp(FloatCC::LessThan, aa, safe);
        let at = self.b.ins().trunc(a);
        let a_int = self.b.ins().fcmp(FloatCC::Equal, at, a);
        let ok = self.b.ins().band(a_small, a_int);
        let ok = self.b.ins().band(ok, c_ok);
        let q = self.b.ins().fdiv(a, c);
        let q = self.b.ins().trunc(q);
        let qc = self.b.ins().fmul(q, c);
        let r = self.b.ins().fsub(a, qc);
        let fast = self.b.ins().fcopysign(r, a);
        self.rem_or_slow(ok, fast, a, c)
    }

    /// `fast` where `ok`; otherwise, in a speculative version, give up, and in the full one the
    /// shim `js::rem`.
    fn rem_or_slow(&mut self, ok: Value, fast: Value, a: Value, c: Value) -> Value {
        if let Some(bail) = self.bail {
            let go = self.b.create_block();
            self.b.ins().brif(ok, go, &[], bail, &[]);
            self.b.switch_to_block(go);
            return fast;
        }
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, F64);
        self.b
            .ins()
            .brif(ok, join, &[BlockArg::Value(fast)], slow, &[]);
        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        let r = self.call2(shims::rem, a, c);
        self.b.ins().jump(join, &[BlockArg::Value(r)]);
        self.b.switch_to_block(join);
        self.b.block_params(join)[0]
    }

    /// `a % c` for a constant `c` without a division: with `A = |a|`, `C = |c|` and `inv =
    /// 1 / C` (rounded; computed once before the loop), `q = trunc(A * inv)`, `r = A - q * C`,
    /// `r += C` where `r < 0`, `r -= C` where `r >= C`, and the sign of `a` on `r`. It applies
    /// where `|a| < 2^52` (any such `a`, integer or not) and `c` is an integer with `1 <= |c| <
    /// 2^52` (`d.lim` is `2^52` for such a `c`, `0` otherwise, so one comparison of `|a|` tests
    /// both; it fails for NaN and the infinities); the shim takes the rest.
    ///
    /// Why this is `js::rem` to the bit. Let `u = 2^-53`, `Q = floor(A / C)` and `R = A - Q * C`,
    /// so `0 <= R < C` and `a % c` is `R` with the sign of `a` (C's `fmod`, which is exact, as
    /// is `js::rem_integral` on integers).
    /// - `inv = (1/C)(1 + e1)` and `p = fl(A * inv) = (A/C)(1 + e1)(1 + e2)` with `|e1|, |e2| <=
    ///   u`, so `|p - A/C| <= (A/C)(2u + u^2)`. For `C = 1`, `inv = 1` and `p = A` exactly; for
    ///   `C >= 2`, `A/C < 2^51` and the error is below `2^51 * 2^-52 * (1 + 2^-52) < 1`. Hence
    ///   `Q - 1 < p < Q + 2` and (`p >= 0`) `q` is `Q - 1`, `Q` or `Q + 1`, and `q >= 0`. (A
    ///   subnormal product does not matter: then `A < 1 <= C` and `p < 1`, so `q = 0 = Q`.)
    /// - `q * C` is an integer at most `(Q + 1) * C <= A + C < 2^53`: exact.
    /// - `A - q * C` is exact: its value, `R + C`, `R` or `R - C`, is representable. `R` is
    ///   (fmod is exact). Let `g` be the unit in the last place of `A`: a power of two at most
    ///   1/2 (as `A < 2^52`), so `q * C`, an integer, is a multiple of it, and so is `A - q * C`;
    ///   a multiple of `g` no larger than `A` in magnitude is representable. `R + C` (where `q =
    ///   Q - 1`, so `Q >= 1`) lies in `(0, A]`. `|R - C| <= C` (where `q = Q + 1`): either `Q >=
    ///   1`, so `C <= A`, or `Q = 0` and `p >= 1`, so `A` lies within a factor 2 of `C` and `C -
    ///   A` is exact (Sterbenz).
    /// - One correction then gives `R` exactly (`R` is representable, so the sum or difference
    ///   rounds to it), and the other does nothing. `r` is never `-0` (an exact difference of
    ///   zero is `+0`), so setting the sign bit of `a` on it is `copysign`: `-6 % 3` is `-0`.
    fn rem_by_constant(&mut self, a: Value, c: Value, d: Divisor) -> Value {
        let l = self.lit;
        let aa = self.b.ins().band(a, l.abs_mask);
        let ok = self.b.ins().fcmp(FloatCC::LessThan, aa, d.lim);
        let p = self.b.ins().fmul(aa, d.inv);
        let q = self.b.ins().trunc(p);
        let qc = self.b.ins().fmul(q, d.abs);
        let r = self.b.ins().fsub(aa, qc);
        let neg = self.b.ins().fcmp(FloatCC::LessThan, r, l.zero);
        let up = self.fsel(neg, d.abs, l.zero);
        let r = self.b.ins().fadd(r, up);
        let over = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, r, d.abs);
        let down = self.fsel(over, d.abs, l.zero);
        let r = self.b.ins().fsub(r, down);
        let sign = self.b.ins().band(a, l.sign_mask);
        let fast = self.b.ins().bor(r, sign);
        self.rem_or_slow(ok, fast, a, c)
    }

    /// Loads [`LITERALS`] (in the entry block).
    fn literals(&mut self) -> (Literals, Literals) {
        let base = self.b.ins().iconst(self.ptr, LITERALS.0.as_ptr() as i64);
        let mut at = |ty: ir::Type, k: usize| {
            let flags = MemFlags::trusted().with_readonly();
            self.b.ins().load(ty, flags, base, (k * 16) as i32)
        };
        let mut both = |k: usize| (at(F64, k), at(F64X2, k));
        let (abs_mask, vabs_mask) = both(0);
        let (sign_mask, vsign_mask) = both(1);
        let (zero, vzero) = both(2);
        let (one, vone) = both(3);
        (
            Literals {
                abs_mask,
                sign_mask,
                zero,
                one,
            },
            Literals {
                abs_mask: vabs_mask,
                sign_mask: vsign_mask,
                zero: vzero,
                one: vone,
            },
        )
    }

    /// Whether `c` may be the divisor of `%`'s integer path: an integer below 2^53 in magnitude,
    /// not zero.
    fn divisor_ok(&mut self, c: Value) -> Value {
        let safe = self.b.ins().f64const(9_007_199_254_740_992.0);
        let zero = self.b.ins().f64const(0.0);
        let ca = self.b.ins().fabs(c);
        let small = self.b.ins().fcmp(FloatCC::LessThan, ca, safe);
        let nonzero = self.b.ins().fcmp(FloatCC::OrderedNotEqual, c, zero);
        let ct = self.b.ins().trunc(c);
        let int = self.b.ins().fcmp(FloatCC::Equal, ct, c);
        let ok = self.b.ins().band(small, nonzero);
        self.b.ins().band(ok, int)
    }

    fn instr(&mut self, ins: &Instr) -> Result<Value, String> {
        let vals: Vec<Value> = match &ins.args {
            Args::One(a) => vec![self.reg(*a)],
            Args::Two(a, c) => vec![self.reg(*a), self.reg(*c)],
            Args::Three(c, a, e) => vec![self.reg(*c), self.reg(*a), self.reg(*e)],
            Args::Many(regs) => regs.iter().map(|&r| self.reg(r)).collect(),
        };
        self.scalar_instr(ins, &vals)
    }

    /// `ins` on one value per operand (`vals`, in the order of its operand registers).
    fn scalar_instr(&mut self, ins: &Instr, vals: &[Value]) -> Result<Value, String> {
        Ok(match (&ins.args, vals) {
            (Args::One(_), &[x]) => self.unary(ins.op, x)?,
            (Args::Two(_, c), &[x, y]) => {
                if ins.op == Op::Mod {
                    self.rem(x, y, *c)
                } else {
                    self.binary(ins.op, x, y)?
                }
            }
            (Args::Three(..), &[c, a, e]) => {
                if ins.op != Op::Select {
                    return Err(format!("{:?} is not ternary", ins.op));
                }
                let t = self.truthy(c);
                self.fsel(t, a, e)
            }
            (Args::Many(_), vals) => {
                if ins.op != Op::Hypot {
                    return Err(format!("{:?} is not variadic", ins.op));
                }
                let size = u32::try_from(vals.len() * 8).map_err(err)?;
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    size,
                    3,
                ));
                for (k, &v) in vals.iter().enumerate() {
                    self.b.ins().stack_store(v, slot, (k * 8) as i32);
                }
                let p = self.b.ins().stack_addr(self.ptr, slot, 0);
                let count = self.b.ins().iconst(I64, vals.len() as i64);
                let f: unsafe extern "C" fn(*const f64, u64) -> f64 = shims::hypot;
                self.call(self.sigs.pn_f, f as usize, &[p, count])
            }
            _ => return Err(format!("{:?}: operands do not match", ins.op)),
        })
    }

    fn unary(&mut self, op: Op, x: Value) -> Result<Value, String> {
        let libm1: Option<extern "C" fn(f64) -> f64> = match op {
            Op::Acos => Some(shims::acos),
            Op::Acosh => Some(shims::acosh),
            Op::Asin => Some(shims::asin),
            Op::Asinh => Some(shims::asinh),
            Op::Atan => Some(shims::atan),
            Op::Atanh => Some(shims::atanh),
            Op::Cbrt => Some(shims::cbrt),
            Op::Cos => Some(shims::cos),
            Op::Cosh => Some(shims::cosh),
            Op::Exp => Some(shims::exp),
            Op::Expm1 => Some(shims::expm1),
            Op::Log => Some(shims::log),
            Op::Log1p => Some(shims::log1p),
            Op::Log10 => Some(shims::log10),
            Op::Log2 => Some(shims::log2),
            Op::Round => Some(shims::round),
            Op::Sign => Some(shims::sign),
            Op::Sin => Some(shims::sin),
            Op::Sinh => Some(shims::sinh),
            Op::Tan => Some(shims::tan),
            Op::Tanh => Some(shims::tanh),
            Op::Clz32 => Some(shims::clz32),
            Op::IsInteger => Some(shims::is_integer),
            Op::IsSafeInteger => Some(shims::is_safe_integer),
            _ => None,
        };
        if let Some(f) = libm1 {
            return Ok(self.call1(f, x));
        }
        Ok(match op {
            Op::Mov => x,
            Op::Neg => self.b.ins().fneg(x),
            Op::Not => {
                let t = self.truthy(x);
                let f = self.b.ins().f64const(0.0);
                let t_ = self.b.ins().f64const(1.0);
                self.fsel(t, f, t_)
            }
            Op::BitNot => {
                let v = self.int32(x);
                let v = self.b.ins().bnot(v);
                self.num_of_i32(v)
            }
            Op::Abs => self.b.ins().fabs(x),
            Op::Ceil => self.b.ins().ceil(x),
            Op::Floor => self.b.ins().floor(x),
            Op::Trunc => self.b.ins().trunc(x),
            Op::Sqrt => self.b.ins().sqrt(x),
            Op::Fround => {
                let f = self.b.ins().fdemote(F32, x);
                self.b.ins().fpromote(F64, f)
            }
            Op::IsNaN => {
                let c = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                self.boolean(c)
            }
            Op::IsFinite => {
                let a = self.b.ins().fabs(x);
                let inf = self.b.ins().f64const(f64::INFINITY);
                let c = self.b.ins().fcmp(FloatCC::LessThan, a, inf);
                self.boolean(c)
            }
            op => return Err(format!("{op:?} is not unary")),
        })
    }

    fn binary(&mut self, op: Op, x: Value, y: Value) -> Result<Value, String> {
        let cmp = |g: &mut Self, cc: FloatCC| {
            let c = g.b.ins().fcmp(cc, x, y);
            g.boolean(c)
        };
        Ok(match op {
            Op::Add => self.b.ins().fadd(x, y),
            Op::Sub => self.b.ins().fsub(x, y),
            Op::Mul => self.b.ins().fmul(x, y),
            Op::Div => self.b.ins().fdiv(x, y),
            Op::Pow => self.call2(shims::pow, x, y),
            Op::Min => self.call2(shims::min, x, y),
            Op::Max => self.call2(shims::max, x, y),
            Op::Atan2 => self.call2(shims::atan2, x, y),
            Op::BitAnd | Op::BitOr | Op::BitXor | Op::Imul | Op::Shl | Op::Sar => {
                let a = self.int32(x);
                let c = self.int32(y);
                let v = match op {
                    Op::BitAnd => self.b.ins().band(a, c),
                    Op::BitOr => self.b.ins().bor(a, c),
                    Op::BitXor => self.b.ins().bxor(a, c),
                    Op::Imul => self.b.ins().imul(a, c),
                    Op::Shl => {
                        let s = self.b.ins().band_imm(c, 31);
                        self.b.ins().ishl(a, s)
                    }
                    _ => {
                        let s = self.b.ins().band_imm(c, 31);
                        self.b.ins().sshr(a, s)
                    }
                };
                self.num_of_i32(v)
            }
            Op::Shr => {
                let a = self.int32(x);
                let c = self.int32(y);
                let s = self.b.ins().band_imm(c, 31);
                let v = self.b.ins().ushr(a, s);
                self.num_of_u32(v)
            }
            Op::Lt => cmp(self, FloatCC::LessThan),
            Op::Le => cmp(self, FloatCC::LessThanOrEqual),
            Op::Gt => cmp(self, FloatCC::GreaterThan),
            Op::Ge => cmp(self, FloatCC::GreaterThanOrEqual),
            Op::Eq => cmp(self, FloatCC::Equal),
            Op::Ne => cmp(self, FloatCC::NotEqual),
            op => return Err(format!("{op:?} is not binary")),
        })
    }
}
