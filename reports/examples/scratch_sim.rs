// scratch, not committed: simulate the gate between real runs.
use threadloop_reports::compare::{self, NotGated};
use threadloop_reports::{load, report};
fn sub(run: &load::Run, reps: &[i64], id: &str) -> report::Analysis {
    let mut r = run.clone();
    r.run_id = id.into();
    r.rows.retain(|row| reps.contains(&(row.num("repetition").unwrap_or(0.0) as i64)));
    report::analyse(r)
}
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pct: f64 = args[0].parse().unwrap();
    let newreps: usize = args[1].parse().unwrap();
    let dirs = &args[2..];
    let runs: Vec<load::Run> = dirs.iter().map(|d| load::load_run(std::path::Path::new(d)).unwrap()).collect();
    let mut all: Vec<(f64, String)> = Vec::new();
    let mut nsim = 0;
    let mut zs: Vec<(f64, String)> = Vec::new();
    let mut gated_counts = Vec::new();
    for (a, ra) in runs.iter().enumerate() {
        let base = report::analyse(ra.clone());
        for (b, rb) in runs.iter().enumerate() {
            if a == b { continue; }
            let reps: Vec<i64> = { let mut v: Vec<i64> = rb.rows.iter().map(|r| r.num("repetition").unwrap_or(0.0) as i64).collect(); v.sort(); v.dedup(); v };
            let combos: Vec<Vec<i64>> = if newreps == 1 { reps.iter().map(|&k| vec![k]).collect() } else { let mut v = vec![]; for i in 0..reps.len() { for j in i+1..reps.len() { v.push(vec![reps[i], reps[j]]); } } v };
            for ks in combos {
                let k = format!("{:?}", ks);
                let new = sub(rb, &ks, &format!("{b}-{k}"));
                let cmp = compare::compare(&base, &new, Some(pct));
                nsim += 1;
                let mut g = 0;
                for r in &cmp.rows {
                    for c in r.checks() {
                        if c.gated() { g += 1; let zz = c.change_pct.unwrap().abs() / (c.noise.as_ref().unwrap().reach_pct / 4.0).max(1e-9); zs.push((zz, format!("{} {} reach {:.2}", c.quantity.label(), r.cell, c.noise.as_ref().unwrap().reach_pct))); all.push((c.change_pct.unwrap(), format!("{} {} {}/{} base{} new{}-{}", c.quantity.label(), r.experiment, r.cell, "", a, b, k))); }
                    }
                }
                gated_counts.push(g);
                let f = cmp.failing();
                if !f.is_empty() { println!("FAIL base {a} new {b}-{k}: {:?}", f.iter().map(|r| &r.cell).collect::<Vec<_>>()); }
            }
        }
    }
    all.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()));
    zs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let n = zs.len();
    println!("z = |change| / (reach/4): n={n} max {:.2} p99 {:.2} p90 {:.2}", zs[0].0, zs[n/100].0, zs[n/10].0);
    for z in zs.iter().take(5) { println!("  z {:.2} {}", z.0, z.1); }
    println!("simulations {nsim}, gated checks per simulation {:?}", gated_counts);
    for q in ["throughput", "p50"] {
        let v: Vec<f64> = all.iter().filter(|x| x.1.starts_with(q)).map(|x| x.0.abs()).collect();
        let mut s = v.clone(); s.sort_by(f64::total_cmp);
        let p = |f: f64| s[((s.len() as f64 - 1.0) * f) as usize];
        println!("{q}: n={} |Δ| median {:.2}% p90 {:.2}% p99 {:.2}% max {:.2}%", s.len(), p(0.5), p(0.9), p(0.99), s[s.len()-1]);
    }
    for x in all.iter().take(15) { println!("{:+.2}% {}", x.0, x.1); }
    // reasons in a BASE-vs-run compare
    let base = report::analyse(runs[0].clone());
    let new = sub(&runs[1], &[0], "x");
    let cmp = compare::compare(&base, &new, Some(pct));
    let mut reasons = std::collections::BTreeMap::new();
    for r in &cmp.rows { for c in r.checks() { let k = match &c.not_gated { None => "gated".to_string(), Some(NotGated::Noisy{..}) => "noisy".into(), Some(w) => format!("{:?}", w).split(' ').next().unwrap().to_string() }; *reasons.entry(format!("{} {}", c.quantity.label(), k)).or_insert(0) += 1; } }
    println!("{reasons:?}");
}
