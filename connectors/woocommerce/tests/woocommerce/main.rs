//! Integration tests of the WooCommerce connector and its simulator.
