//! The op programs that `par` closures compile to, and their wire format.
//!
//! A pipeline arrives as one `u32` word array plus a constant table (the TypeScript compiler in
//! `src/par/compiler.ts` writes it):
//!
//! ```text
//! [VERSION, nregs, nconsts, ncols, nprograms, program*]
//! program: [kind, ninstrs, result, instr*]
//! instr:   [op, dst, operand*]          fixed arity per op
//!        | [op, dst, count, operand*]   variadic ops (Hypot)
//! ```
//!
//! Registers are lanes of values: register 0 holds the first parameter (`x`, or `acc` in a
//! reduce), register 1 the second (the source index `i`, or `x` in a reduce), registers
//! `2..2 + nconsts` the constants, the next `ncols` the other columns of a `par.zip` (column
//! `j >= 1` of the row in register `2 + nconsts + j - 1`; they are filtered with `x`), and the
//! rest temporaries. Programs are straight-line code (the
//! compiler turns `&&`, `||` and `?:` into selects, which is exact because every op is pure and
//! total). Everything is validated here, so a malformed program is an error, never a panic.

use crate::error::{Code, Error, Result};

/// Version of the wire format; bumped on any change.
pub const VERSION: u32 = 2;
/// The most registers a program may use.
pub const MAX_REGS: usize = 1024;
/// The most columns a `par.zip` row may have besides `x`.
pub const MAX_COLS: usize = 63;
/// Register of the first parameter.
pub const R_ARG0: u16 = 0;
/// Register of the second parameter.
pub const R_ARG1: u16 = 1;
/// The first constant register.
pub const R_CONST: u16 = 2;

macro_rules! ops {
    ($($(#[$doc:meta])* $name:ident = $arity:literal,)*) => {
        /// One operation of the evaluator (JavaScript semantics, see [`super::js`]).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Op {
            $($(#[$doc])* $name,)*
        }

        impl Op {
            /// Every op, in wire order (the opcode is the index).
            pub const ALL: &'static [Op] = &[$(Op::$name,)*];
            /// Their names, as the TypeScript compiler spells them.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name),)*];

            /// Number of operands; `None` for variadic ops.
            pub const fn arity(self) -> Option<usize> {
                match self {
                    $(Op::$name => { let a: i32 = $arity; if a < 0 { None } else { Some(a as usize) } })*
                }
            }
        }
    };
}

ops! {
    /// Copy.
    Mov = 1,
    /// Unary `-`.
    Neg = 1,
    /// `!` (boolean result).
    Not = 1,
    /// `~`.
    BitNot = 1,
    /// `Math.abs`.
    Abs = 1,
    /// `Math.acos`.
    Acos = 1,
    /// `Math.acosh`.
    Acosh = 1,
    /// `Math.asin`.
    Asin = 1,
    /// `Math.asinh`.
    Asinh = 1,
    /// `Math.atan`.
    Atan = 1,
    /// `Math.atanh`.
    Atanh = 1,
    /// `Math.cbrt`.
    Cbrt = 1,
    /// `Math.ceil`.
    Ceil = 1,
    /// `Math.clz32`.
    Clz32 = 1,
    /// `Math.cos`.
    Cos = 1,
    /// `Math.cosh`.
    Cosh = 1,
    /// `Math.exp`.
    Exp = 1,
    /// `Math.expm1`.
    Expm1 = 1,
    /// `Math.floor`.
    Floor = 1,
    /// `Math.fround`.
    Fround = 1,
    /// `Math.log`.
    Log = 1,
    /// `Math.log1p`.
    Log1p = 1,
    /// `Math.log10`.
    Log10 = 1,
    /// `Math.log2`.
    Log2 = 1,
    /// `Math.round`.
    Round = 1,
    /// `Math.sign`.
    Sign = 1,
    /// `Math.sin`.
    Sin = 1,
    /// `Math.sinh`.
    Sinh = 1,
    /// `Math.sqrt`.
    Sqrt = 1,
    /// `Math.tan`.
    Tan = 1,
    /// `Math.tanh`.
    Tanh = 1,
    /// `Math.trunc`.
    Trunc = 1,
    /// `Number.isNaN` (boolean result).
    IsNaN = 1,
    /// `Number.isFinite`.
    IsFinite = 1,
    /// `Number.isInteger`.
    IsInteger = 1,
    /// `Number.isSafeInteger`.
    IsSafeInteger = 1,
    /// `+`.
    Add = 2,
    /// Binary `-`.
    Sub = 2,
    /// `*`.
    Mul = 2,
    /// `/`.
    Div = 2,
    /// `%`.
    Mod = 2,
    /// `**` and `Math.pow`.
    Pow = 2,
    /// `&`.
    BitAnd = 2,
    /// `|`.
    BitOr = 2,
    /// `^`.
    BitXor = 2,
    /// `<<`.
    Shl = 2,
    /// `>>`.
    Sar = 2,
    /// `>>>`.
    Shr = 2,
    /// `<` (boolean result).
    Lt = 2,
    /// `<=`.
    Le = 2,
    /// `>`.
    Gt = 2,
    /// `>=`.
    Ge = 2,
    /// Numeric equality (`==`, and `===` between values of one type).
    Eq = 2,
    /// Numeric inequality (`!=`, and `!==` between values of one type).
    Ne = 2,
    /// `Math.min` of two.
    Min = 2,
    /// `Math.max` of two.
    Max = 2,
    /// `Math.atan2`.
    Atan2 = 2,
    /// `Math.imul`.
    Imul = 2,
    /// `c ? a : b` on the truthiness of `c` (operands `c, a, b`).
    Select = 3,
    /// `Math.hypot(...)`.
    Hypot = -1,
}

impl Op {
    /// The op with this opcode.
    pub fn from_code(code: u32) -> Option<Op> {
        Op::ALL.get(code as usize).copied()
    }
}

/// One instruction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Instr {
    /// What it computes.
    pub op: Op,
    /// The register it writes.
    pub dst: u16,
    /// The registers it reads.
    pub args: Args,
}

/// The operands of an instruction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Args {
    /// One operand register.
    One(u16),
    /// Two operand registers.
    Two(u16, u16),
    /// Three operand registers.
    Three(u16, u16, u16),
    /// Any number of operand registers (variadic ops).
    Many(Box<[u16]>),
}

/// What a program does in the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `map(fn)`: the result replaces `x`.
    Map = 0,
    /// `filter(fn)`: lanes whose result is falsy are dropped.
    Filter = 1,
    /// The terminal `reduce(fn, init)`: `acc = fn(acc, x)`.
    Reduce = 2,
    /// The terminal `some(fn)`.
    Some = 3,
    /// The terminal `every(fn)`.
    Every = 4,
    /// The key closure of `groupBy(fn)` (its result is the group of `x`).
    Key = 5,
}

impl Kind {
    fn from_code(code: u32) -> Option<Kind> {
        Some(match code {
            0 => Kind::Map,
            1 => Kind::Filter,
            2 => Kind::Reduce,
            3 => Kind::Some,
            4 => Kind::Every,
            5 => Kind::Key,
            _ => return None,
        })
    }
}

/// One compiled closure.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Program {
    /// Its place in the pipeline.
    pub kind: Kind,
    /// Its instructions, in order.
    pub code: Vec<Instr>,
    /// The register that holds the closure's result after the code ran.
    pub result: u16,
    /// Whether the program reads its second parameter.
    pub uses_arg1: bool,
}

/// A decoded pipeline: the stages, the terminal's closure (if any) and the constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    /// The `map` and `filter` stages, in order.
    pub stages: Vec<Program>,
    /// The closure of a `reduce`, `some`, `every` or `groupBy` terminal.
    pub terminal: Option<Program>,
    /// The constants every program reads (from register [`R_CONST`] on).
    pub consts: Vec<f64>,
    /// How many columns besides `x` each row has (`par.zip`), in the registers after the
    /// constants.
    pub ncols: usize,
    /// How many registers the programs use.
    pub nregs: usize,
}

impl Pipeline {
    /// The first temporary register.
    pub fn first_temp(&self) -> usize {
        self.first_col() + self.ncols
    }

    /// The register of column 1 (the second of a zip's row; `x` is column 0).
    pub fn first_col(&self) -> usize {
        R_CONST as usize + self.consts.len()
    }

    /// Whether any stage reads the source index.
    pub fn uses_index(&self) -> bool {
        self.stages.iter().any(|s| s.uses_arg1)
    }

    /// Whether every stage is a map (the output has one value per source element).
    pub fn is_one_to_one(&self) -> bool {
        self.stages.iter().all(|s| s.kind == Kind::Map)
    }

    /// A pipeline without stages or terminal closure.
    pub fn empty() -> Self {
        Pipeline {
            stages: Vec::new(),
            terminal: None,
            consts: Vec::new(),
            ncols: 0,
            nregs: R_CONST as usize,
        }
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(
        Code::InvalidArg,
        format!("malformed par program: {}", msg.into()),
    )
}

struct Reader<'a> {
    words: &'a [u32],
    at: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> Result<u32> {
        let w = self
            .words
            .get(self.at)
            .copied()
            .ok_or_else(|| bad("truncated"))?;
        self.at += 1;
        Ok(w)
    }
}

/// Decodes and validates a pipeline.
pub fn decode(words: &[u32], consts: &[f64]) -> Result<Pipeline> {
    let mut r = Reader { words, at: 0 };
    let version = r.next()?;
    if version != VERSION {
        return Err(bad(format!("version {version}, expected {VERSION}")));
    }
    let nregs = r.next()? as usize;
    let nconsts = r.next()? as usize;
    let ncols = r.next()? as usize;
    let nprogs = r.next()? as usize;
    if nconsts != consts.len() {
        return Err(bad(format!(
            "{nconsts} constants declared, {} given",
            consts.len()
        )));
    }
    if ncols > MAX_COLS {
        return Err(bad(format!("{ncols} columns")));
    }
    let first_temp = R_CONST as usize + nconsts + ncols;
    if nregs < first_temp || nregs > MAX_REGS {
        return Err(bad(format!("{nregs} registers")));
    }
    let mut stages = Vec::new();
    let mut terminal = None;
    for p in 0..nprogs {
        let kind = Kind::from_code(r.next()?).ok_or_else(|| bad("unknown program kind"))?;
        let ninstrs = r.next()? as usize;
        let result = r.next()? as usize;
        if result >= nregs {
            return Err(bad("result register out of range"));
        }
        let reg = |w: u32| -> Result<u16> {
            if (w as usize) < nregs {
                Ok(w as u16)
            } else {
                Err(bad(format!("register {w} out of range")))
            }
        };
        let mut code = Vec::with_capacity(ninstrs.min(4096));
        let mut uses_arg1 = result == R_ARG1 as usize;
        for _ in 0..ninstrs {
            let op = Op::from_code(r.next()?).ok_or_else(|| bad("unknown op"))?;
            let dst = reg(r.next()?)?;
            if (dst as usize) < first_temp {
                return Err(bad(
                    "an instruction writes a parameter, a constant or a column",
                ));
            }
            let args = match op.arity() {
                Some(1) => Args::One(reg(r.next()?)?),
                Some(2) => Args::Two(reg(r.next()?)?, reg(r.next()?)?),
                Some(3) => Args::Three(reg(r.next()?)?, reg(r.next()?)?, reg(r.next()?)?),
                Some(_) => unreachable!("no op has another fixed arity"),
                None => {
                    let count = r.next()? as usize;
                    if count == 0 || count > nregs.max(64) {
                        return Err(bad("bad operand count"));
                    }
                    let mut v = Vec::with_capacity(count);
                    for _ in 0..count {
                        v.push(reg(r.next()?)?);
                    }
                    Args::Many(v.into_boxed_slice())
                }
            };
            uses_arg1 |= match &args {
                Args::One(a) => *a == R_ARG1,
                Args::Two(a, b) => *a == R_ARG1 || *b == R_ARG1,
                Args::Three(a, b, c) => *a == R_ARG1 || *b == R_ARG1 || *c == R_ARG1,
                Args::Many(v) => v.contains(&R_ARG1),
            };
            code.push(Instr { op, dst, args });
        }
        let prog = Program {
            kind,
            code,
            result: result as u16,
            uses_arg1,
        };
        match kind {
            Kind::Map | Kind::Filter => {
                if terminal.is_some() {
                    return Err(bad("a stage after the terminal closure"));
                }
                stages.push(prog);
            }
            Kind::Reduce | Kind::Some | Kind::Every | Kind::Key => {
                if p + 1 != nprogs {
                    return Err(bad("the terminal closure must come last"));
                }
                terminal = Some(prog);
            }
        }
    }
    if r.at != words.len() {
        return Err(bad("trailing words"));
    }
    Ok(Pipeline {
        stages,
        terminal,
        consts: consts.to_vec(),
        ncols,
        nregs,
    })
}

/// Builds wire words by hand (tests, benchmarks).
#[derive(Debug)]
pub struct Builder {
    nregs: usize,
    consts: Vec<f64>,
    ncols: usize,
    progs: Vec<(Kind, Vec<u32>, u32, u32)>,
}

impl Builder {
    /// A builder for programs with `ntemps` temporaries beyond the constants.
    pub fn new(consts: &[f64], ntemps: usize) -> Self {
        Builder {
            nregs: R_CONST as usize + consts.len() + ntemps,
            consts: consts.to_vec(),
            ncols: 0,
            progs: Vec::new(),
        }
    }

    /// Declares `n` columns besides `x` (a zip's rows); call before taking temporaries.
    pub fn columns(mut self, n: usize) -> Self {
        self.nregs += n;
        self.ncols = n;
        self
    }

    /// Register of column `j >= 1` (`x` is column 0, register 0).
    pub fn col(&self, j: usize) -> u32 {
        (R_CONST as usize + self.consts.len() + j - 1) as u32
    }

    /// Register of constant `k`.
    pub fn c(&self, k: usize) -> u32 {
        R_CONST as u32 + k as u32
    }

    /// Register of temporary `t`.
    pub fn t(&self, t: usize) -> u32 {
        (R_CONST as usize + self.consts.len() + self.ncols + t) as u32
    }

    /// Adds a program: `instrs` as `(op, dst, operands)`.
    pub fn program(mut self, kind: Kind, instrs: &[(Op, u32, &[u32])], result: u32) -> Self {
        let mut words = Vec::new();
        for (op, dst, args) in instrs {
            words.push(*op as u32);
            words.push(*dst);
            if op.arity().is_none() {
                words.push(args.len() as u32);
            }
            words.extend_from_slice(args);
        }
        self.progs.push((kind, words, instrs.len() as u32, result));
        self
    }

    /// The wire words and constants.
    pub fn build(self) -> (Vec<u32>, Vec<f64>) {
        let mut w = vec![
            VERSION,
            self.nregs as u32,
            self.consts.len() as u32,
            self.ncols as u32,
            self.progs.len() as u32,
        ];
        for (kind, words, n, result) in self.progs {
            w.extend_from_slice(&[kind as u32, n, result]);
            w.extend_from_slice(&words);
        }
        (w, self.consts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_agree() {
        assert_eq!(Op::ALL.len(), Op::NAMES.len());
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i);
            assert_eq!(format!("{op:?}"), Op::NAMES[i]);
        }
    }

    #[test]
    fn decodes_and_rejects() {
        let b = Builder::new(&[2.0], 1);
        let (t0, c0) = (b.t(0), b.c(0));
        let (w, c) = b
            .program(Kind::Map, &[(Op::Mul, t0, &[0, c0])], t0)
            .program(Kind::Filter, &[(Op::Hypot, t0, &[0, 1])], t0)
            .build();
        let p = decode(&w, &c).unwrap();
        assert_eq!(p.stages.len(), 2);
        assert!(!p.stages[0].uses_arg1);
        assert!(p.stages[1].uses_arg1);
        assert!(p.uses_index());
        assert!(!p.is_one_to_one());
        // Every truncation is an error, never a panic.
        for cut in 0..w.len() {
            assert!(decode(&w[..cut], &c).is_err(), "cut at {cut}");
        }
        let mut extra = w.clone();
        extra.push(0);
        assert!(decode(&extra, &c).is_err());
        // Writing to a constant.
        let b = Builder::new(&[2.0], 1);
        let c0 = b.c(0);
        let (w, c) = b.program(Kind::Map, &[(Op::Neg, c0, &[0])], c0).build();
        assert_eq!(decode(&w, &c).unwrap_err().code, Code::InvalidArg);
        // Out-of-range register.
        let b = Builder::new(&[], 1);
        let t0 = b.t(0);
        let (w, c) = b.program(Kind::Map, &[(Op::Neg, t0, &[99])], t0).build();
        assert!(decode(&w, &c).is_err());
        // Unknown op.
        let (mut w, c) = Builder::new(&[], 1)
            .program(Kind::Map, &[(Op::Neg, 2, &[0])], 2)
            .build();
        w[8] = 999;
        assert!(decode(&w, &c).is_err());
    }
}
