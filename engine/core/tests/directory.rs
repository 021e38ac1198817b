//! `Directory::region_of`: the region of the government an agency belongs to.

mod common;

use aduan_core::directory::region_in_id;
use aduan_core::region::RegionCode;

fn code(s: &str) -> Option<RegionCode> {
    Some(RegionCode::parse(s).unwrap())
}

#[test]
fn an_agency_belongs_to_its_governments_region() {
    let pack = common::national_pack();
    let dir = &pack.directory;
    assert_eq!(dir.region_of("35.78/dinas-pu"), code("35.78"), "a unit: its government's region");
    assert_eq!(dir.region_of("35.78"), code("35.78"), "a kab/kota government: its own code");
    assert_eq!(dir.region_of("35"), code("35"), "a province government: its own code");
    assert_eq!(dir.region_of("pln"), None, "a national body has no region");
    assert_eq!(dir.region_of("kemenpanrb"), None);
    assert_eq!(dir.region_of("35.78/no-such-unit"), code("35.78"), "unknown to the directory: read from the id");
}

#[test]
fn an_id_alone_names_its_region_by_shape() {
    assert_eq!(region_in_id("35.78/dinas-pu"), code("35.78"));
    assert_eq!(region_in_id("35"), code("35"));
    assert_eq!(region_in_id("pln"), None);
}
