pub fn exercise(linktype: u32, data: &[u8]) {
    let d = noisefloor_wire::dissect(linktype, data);
    let meta = noisefloor_wire::render::FrameMeta { number: 1, ts_ns: 0, caplen: data.len() as u32, origlen: data.len() as u32, interface: 0 };
    let mut s = String::new();
    noisefloor_wire::render::summary_line(&mut s, &meta, &d);
    noisefloor_wire::render::verbose(&mut s, &meta, &d);
    noisefloor_wire::render::json(&mut s, &meta, &d);
}
