//! The calendars of a pack: every layer, compiled once per chain (national, region, agency).

use super::{Calendar, CalendarLayer, LayerScope};
use crate::problem::{PackError, Problem};
use crate::region::{province_time_zone, RegionCode};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::sync::Arc;

/// The calendars of a pack: its layers, and every chain compiled once.
#[derive(Debug)]
pub struct CalendarSet {
    layers: Vec<CalendarLayer>,
    national: usize,
    /// The national calendar in each zone it has been needed in.
    by_zone: HashMap<Tz, Arc<Calendar>>,
    /// Regions (province or kab/kota) with a layer of their own, by code.
    by_region: HashMap<String, Arc<Calendar>>,
    /// Agencies with a layer of their own, by id.
    by_agency: HashMap<String, Arc<Calendar>>,
}

impl CalendarSet {
    pub(crate) fn build(layers: Vec<CalendarLayer>) -> Result<Self, PackError> {
        let nationals: Vec<usize> =
            layers.iter().enumerate().filter(|(_, l)| l.scope == LayerScope::National).map(|(i, _)| i).collect();
        let national = match nationals.as_slice() {
            [one] => *one,
            [] => return Err(Problem::file("calendars/", "the pack has no national calendar (`country:`)").into()),
            [_, second, ..] => {
                return Err(Problem::file(&layers[*second].file, "a second national calendar (`country:`)").into())
            }
        };
        let mut set =
            Self { layers, national, by_zone: HashMap::new(), by_region: HashMap::new(), by_agency: HashMap::new() };
        let mut problems = Vec::new();
        let compile = |set: &Self, chain: &[&CalendarLayer], tz: Tz, problems: &mut Vec<Problem>| {
            Calendar::compile(chain, tz)
                .map(Arc::new)
                .map_err(|e| problems.push(Problem::file(&chain.last().expect("non-empty").file, e.to_string())))
                .ok()
                .unwrap_or_else(|| set.national_in(tz))
        };
        for tz in [Tz::Asia__Jakarta, Tz::Asia__Pontianak, Tz::Asia__Makassar, Tz::Asia__Jayapura] {
            let cal = Calendar::compile(&[&set.layers[national]], tz)
                .map_err(|e| Problem::file(&set.layers[national].file, e.to_string()))?;
            set.by_zone.insert(tz, Arc::new(cal));
        }
        let mut regions = HashMap::new();
        let mut agencies = HashMap::new();
        for (i, l) in set.layers.iter().enumerate() {
            match &l.scope {
                LayerScope::Region(r) => {
                    if let Some(prev) = regions.insert(r.as_str().to_owned(), i) {
                        problems.push(Problem::file(
                            &l.file,
                            format!("region {r} already has a calendar in {}", set.layers[prev].file),
                        ));
                    }
                }
                LayerScope::Agency(a) => {
                    if let Some(prev) = agencies.insert(a.clone(), i) {
                        problems.push(Problem::file(
                            &l.file,
                            format!("agency {a} already has a calendar in {}", set.layers[prev].file),
                        ));
                    }
                }
                LayerScope::National => {}
            }
        }
        for code in regions.keys() {
            let region = RegionCode::parse(code).expect("validated");
            let chain = set.region_chain(&regions, &region);
            let tz = region.time_zone().unwrap_or(Tz::Asia__Jakarta);
            let cal = compile(&set, &chain, tz, &mut problems);
            set.by_region.insert(code.clone(), cal);
        }
        // Agencies: the layer alone on top of the national one here; the directory (which knows each
        // agency's region) chains region layers in between when it resolves an agency's calendar.
        for (id, i) in &agencies {
            let chain = [&set.layers[national], &set.layers[*i]];
            let cal = compile(&set, &chain, Tz::Asia__Jakarta, &mut problems);
            set.by_agency.insert(id.clone(), cal);
        }
        if !problems.is_empty() {
            return Err(PackError(problems));
        }
        Ok(set)
    }

    fn region_chain<'a>(&'a self, regions: &HashMap<String, usize>, region: &RegionCode) -> Vec<&'a CalendarLayer> {
        let mut chain = vec![&self.layers[self.national]];
        if let Some(i) = regions.get(region.province()) {
            chain.push(&self.layers[*i]);
        }
        if let Some(k) = region.kabkota() {
            if let Some(i) = regions.get(k) {
                chain.push(&self.layers[*i]);
            }
        }
        chain
    }

    /// The national calendar counted in `tz`.
    pub fn national_in(&self, tz: Tz) -> Arc<Calendar> {
        self.by_zone.get(&tz).cloned().unwrap_or_else(|| {
            Arc::new(Calendar::compile(&[&self.layers[self.national]], tz).expect("the national layer compiled before"))
        })
    }

    /// The national calendar in Asia/Jakarta: national bodies and unknown provinces use it.
    pub fn national(&self) -> Arc<Calendar> {
        self.national_in(Tz::Asia__Jakarta)
    }

    /// The calendar of a region: its kab/kota's layers, else its province's, on the national calendar,
    /// in the province's time zone. An unknown province gets the national calendar in Asia/Jakarta.
    pub fn for_region(&self, region: &RegionCode) -> Arc<Calendar> {
        if let Some(k) = region.kabkota() {
            if let Some(c) = self.by_region.get(k) {
                return c.clone();
            }
        }
        if let Some(c) = self.by_region.get(region.province()) {
            return c.clone();
        }
        match province_time_zone(region.province()) {
            Some(tz) => self.national_in(tz),
            None => self.national(),
        }
    }

    /// The calendar of an agency: its region's (a unit's government's), plus its own layer if it has one.
    /// National bodies (no region) use the national calendar unless their own layer names a zone.
    pub fn for_agency(&self, agency: &str, region: Option<&RegionCode>) -> Arc<Calendar> {
        match (self.by_agency.get(agency), region) {
            (None, Some(r)) => self.for_region(r),
            (None, None) => self.national(),
            (Some(own), None) => own.clone(),
            (Some(_), Some(r)) => {
                // Rare (an agency with its own days off inside a region): compile the full chain.
                let regions: HashMap<String, usize> = self
                    .layers
                    .iter()
                    .enumerate()
                    .filter_map(|(i, l)| match &l.scope {
                        LayerScope::Region(code) => Some((code.as_str().to_owned(), i)),
                        _ => None,
                    })
                    .collect();
                let mut chain = self.region_chain(&regions, r);
                chain.extend(self.layers.iter().filter(|l| l.scope == LayerScope::Agency(agency.to_owned())));
                let tz = r.time_zone().unwrap_or(Tz::Asia__Jakarta);
                Calendar::compile(&chain, tz).map(Arc::new).unwrap_or_else(|_| self.for_region(r))
            }
        }
    }

    /// The layers, as loaded.
    pub fn layers(&self) -> &[CalendarLayer] {
        &self.layers
    }
}
