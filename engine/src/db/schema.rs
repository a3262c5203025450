//! The run's schema, from the essay's two settings: a shop (`products`,
//! `inventory`, `orders`) and a document platform (`documents`). Rows are a
//! pure function of their id, so every run has the same data and a lookup can
//! be checked without a second query.

/// Rows in `products` and `inventory`.
pub const PRODUCTS: u32 = 100_000;
/// Rows in `documents`.
pub const DOCUMENTS: u32 = 10_000;
/// Starting stock of every product: more than any run decrements.
pub const STOCK: i64 = 1_000_000_000;

pub fn product_name(id: i32) -> String {
    format!("product-{id}")
}

/// Creates and fills the schema (idempotent: drops what exists first). Runs
/// server-side with `generate_series`: 100k rows in well under a second.
pub fn seed_sql() -> String {
    format!(
        "SET client_min_messages = warning;
DROP TABLE IF EXISTS orders, inventory, products, documents;
CREATE TABLE products (id int4 PRIMARY KEY, name text NOT NULL, price_cents int4 NOT NULL);
CREATE TABLE inventory (product_id int4 PRIMARY KEY REFERENCES products(id), stock int8 NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY, product_id int4 NOT NULL REFERENCES products(id), quantity int4 NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE documents (id int4 PRIMARY KEY, title text NOT NULL, body text NOT NULL);
INSERT INTO products SELECT i, 'product-' || i, (i * 7919) % 100000 FROM generate_series(1, {PRODUCTS}) AS i;
INSERT INTO inventory SELECT i, {STOCK} FROM generate_series(1, {PRODUCTS}) AS i;
INSERT INTO documents SELECT i, 'document-' || i, repeat(md5(i::text), 32) FROM generate_series(1, {DOCUMENTS}) AS i;
ANALYZE products; ANALYZE inventory; ANALYZE documents;"
    )
}
