//! echo [ARG...]: the arguments separated by spaces, then a newline.
#![no_std]
#![no_main]

use rt::Output;

rt::entry!(main);

fn main(args: rt::Args) -> i32 {
    let mut out = Output::new(1);
    for (i, arg) in args.iter().skip(1).enumerate() {
        if i > 0 {
            out.bytes(b" ");
        }
        out.bytes(arg);
    }
    out.bytes(b"\n");
    0
}
