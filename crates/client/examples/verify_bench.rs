//! Verifications per CPU-second (bench/verify runs this): `verify_bench ISSUER AUDIENCE
//! NAME=TOKEN...` verifies each token over and over on one thread for about two seconds and
//! prints, per token, verifications per second of this process's CPU time.

use gatehouse_client::Verifier;
use std::time::{Duration, Instant};

/// This process's user + system CPU time so far (`/proc/self/stat`, clock ticks of 10 ms).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; after ')' the state (field 3) is first.
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(issuer), Some(audience)) = (args.first(), args.get(1)) else {
        return Err("usage: verify_bench ISSUER AUDIENCE NAME=TOKEN...".into());
    };
    let verifier = Verifier::discover(issuer, audience).await?;
    println!("| algorithm | verifications per CPU-second | per wall-second |");
    println!("|---|---|---|");
    for pair in args.iter().skip(2) {
        let (name, token) = pair.split_once('=').ok_or("NAME=TOKEN")?;
        verifier.verify(token).await?;
        let (started, cpu_before) = (Instant::now(), cpu());
        let mut n = 0u64;
        while started.elapsed() < Duration::from_secs(2) {
            for _ in 0..100 {
                verifier.verify(token).await?;
            }
            n += 100;
        }
        let (wall, used) = (started.elapsed().as_secs_f64(), (cpu() - cpu_before).as_secs_f64().max(0.01));
        println!("| {name} | {:.0} | {:.0} |", n as f64 / used, n as f64 / wall);
    }
    Ok(())
}
