// scratch, not committed
use threadloop_reports::load;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let cols: Vec<String> = std::env::args().skip(2).collect();
    let rows = load::read_results(&std::path::Path::new(&dir).join("results.parquet")).unwrap();
    println!("experiment\tcell\trep\tmodel\tstatus\t{}", cols.join("\t"));
    for r in &rows {
        let vals: Vec<String> = cols.iter().map(|c| r.get(c).display()).collect();
        println!("{}\t{}\t{}\t{}\t{}\t{}", r.text("experiment"), r.text("cell"), r.get("repetition").display(), r.text("model"), r.text("status"), vals.join("\t"));
    }
}
