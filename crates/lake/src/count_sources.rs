//! `count_sources(src_v4, src_v6)`: the number of distinct sources in the union of the
//! rows' sets. Takes the rollup's encoded sets, or address text (any string column, e.g.
//! `count_sources(src, NULL)` over events), so one query serves both tables.
//!
//! Two accumulators share the row handling: one set per aggregate (no GROUP BY) and one
//! set per group. The per-group form is DataFusion's `GroupsAccumulator`: without it,
//! DataFusion sorts each batch by group and copies every group's slice of the encoded sets
//! before handing it to a per-group accumulator, a second copy of megabytes of bitmaps.

use std::net::IpAddr;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BinaryBuilder, BinaryViewArray, BooleanArray, Int64Array,
    LargeBinaryArray, StringArray,
};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use crate::sources::SourceSet;

#[derive(Debug, PartialEq, Eq, Hash)]
struct CountSources {
    signature: Signature,
}

impl AggregateUDFImpl for CountSources {
    fn name(&self) -> &str {
        "count_sources"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(SourcesAccumulator::default()))
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new("src_v4_raw", DataType::Binary, true)),
            Arc::new(Field::new("src_v6_raw", DataType::Binary, true)),
        ])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> DfResult<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(SourcesByGroup::default()))
    }
}

/// The `count_sources` aggregate, to register on a DataFusion session.
pub fn count_sources_udaf() -> AggregateUDF {
    AggregateUDF::from(CountSources {
        signature: Signature::any(2, Volatility::Immutable),
    })
}

fn exec_err(m: String) -> DataFusionError {
    DataFusionError::Execution(m)
}

/// A binary column in any of Arrow's layouts, read in place.
enum Bytes<'a> {
    Plain(&'a BinaryArray),
    Large(&'a LargeBinaryArray),
    View(&'a BinaryViewArray),
    /// A NULL literal or a missing argument: no bytes in any row.
    Nothing,
}

impl<'a> Bytes<'a> {
    fn of(c: Option<&'a ArrayRef>) -> Option<Bytes<'a>> {
        let Some(c) = c else {
            return Some(Bytes::Nothing);
        };
        let any = c.as_any();
        match c.data_type() {
            DataType::Null => Some(Bytes::Nothing),
            DataType::Binary => any.downcast_ref().map(Bytes::Plain),
            DataType::LargeBinary => any.downcast_ref().map(Bytes::Large),
            DataType::BinaryView => any.downcast_ref().map(Bytes::View),
            _ => None,
        }
    }

    /// Row `i`'s bytes, empty when NULL.
    fn get(&self, i: usize) -> &'a [u8] {
        match *self {
            Bytes::Plain(a) if i < a.len() && a.is_valid(i) => a.value(i),
            Bytes::Large(a) if i < a.len() && a.is_valid(i) => a.value(i),
            Bytes::View(a) if i < a.len() && a.is_valid(i) => a.value(i),
            _ => &[],
        }
    }
}

/// The arguments of one batch, decoded once; rows are then added to whichever set the
/// caller names.
enum Rows<'a> {
    Sets {
        v4: Bytes<'a>,
        v6: Bytes<'a>,
    },
    /// Address text in one or both arguments.
    Text(Vec<StringArray>),
}

impl<'a> Rows<'a> {
    fn of(values: &'a [ArrayRef]) -> DfResult<Rows<'a>> {
        let first = values.first();
        let second = values.get(1);
        if let (Some(v4), Some(v6)) = (Bytes::of(first), Bytes::of(second))
            && first.is_some_and(|c| c.data_type() != &DataType::Null)
        {
            return Ok(Rows::Sets { v4, v6 });
        }
        let mut text = Vec::new();
        for c in values.iter().take(2) {
            match c.data_type() {
                DataType::Null => {}
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    let t = arrow::compute::cast(c, &DataType::Utf8)?;
                    let t = t
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .ok_or_else(|| exec_err("count_sources: text column expected".into()))?;
                    text.push(t.clone());
                }
                // A binary second argument beside a NULL first one: nothing to count.
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView
                    if values
                        .first()
                        .is_some_and(|f| f.data_type() == &DataType::Null) => {}
                other => {
                    return Err(exec_err(format!(
                        "count_sources takes the rollup's src_v4 and src_v6 or address text, not {other}"
                    )));
                }
            }
        }
        Ok(Rows::Text(text))
    }

    fn add(&self, i: usize, set: &mut SourceSet) -> DfResult<()> {
        match self {
            Rows::Sets { v4, v6 } => set
                .merge_encoded(v4.get(i), v6.get(i))
                .map_err(|e| exec_err(format!("count_sources: {e}"))),
            Rows::Text(columns) => {
                for c in columns {
                    // Text that is not an address cannot be a source (the events' `src` is
                    // always written from a parsed address).
                    if i < c.len()
                        && !c.is_null(i)
                        && let Ok(ip) = c.value(i).parse::<IpAddr>()
                    {
                        set.insert(ip);
                    }
                }
                Ok(())
            }
        }
    }
}

fn row_count(values: &[ArrayRef]) -> usize {
    values.first().map_or(0, |c| c.len())
}

/// The two columns of partial states: raw sorted addresses, not bitmaps (cheaper to write
/// and to read back, and they never leave the process).
struct States<'a> {
    v4: Bytes<'a>,
    v6: Bytes<'a>,
}

impl<'a> States<'a> {
    fn of(states: &'a [ArrayRef]) -> DfResult<States<'a>> {
        let [v4, v6] = states else {
            return Err(exec_err(format!(
                "count_sources: {} state columns, 2 expected",
                states.len()
            )));
        };
        let (Some(v4), Some(v6)) = (Bytes::of(Some(v4)), Bytes::of(Some(v6))) else {
            return Err(exec_err("count_sources: binary state expected".into()));
        };
        Ok(States { v4, v6 })
    }

    fn merge_row(&self, i: usize, set: &mut SourceSet) -> DfResult<()> {
        set.merge_raw(self.v4.get(i), self.v6.get(i))
            .map_err(|e| exec_err(format!("count_sources: {e}")))
    }
}

/// Whether row `i` passes the aggregate's FILTER clause (absent, false and NULL differ).
fn kept(filter: Option<&BooleanArray>, i: usize) -> bool {
    filter.is_none_or(|f| i < f.len() && f.is_valid(i) && f.value(i))
}

fn state_arrays(sets: &mut [SourceSet]) -> Vec<ArrayRef> {
    let mut v4 = BinaryBuilder::new();
    let mut v6 = BinaryBuilder::new();
    for s in sets {
        let (a, b) = s.to_raw();
        v4.append_value(a);
        v6.append_value(b);
    }
    vec![Arc::new(v4.finish()), Arc::new(v6.finish())]
}

fn count(set: &mut SourceSet) -> i64 {
    i64::try_from(set.len()).unwrap_or(i64::MAX)
}

/// One set for an aggregate without GROUP BY (and DataFusion's fallback).
#[derive(Debug, Default)]
pub(crate) struct SourcesAccumulator {
    set: SourceSet,
}

impl Accumulator for SourcesAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let rows = Rows::of(values)?;
        for i in 0..row_count(values) {
            rows.add(i, &mut self.set)?;
        }
        Ok(())
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(ScalarValue::Int64(Some(count(&mut self.set))))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.set.heap_bytes()
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let (v4, v6) = self.set.to_raw();
        Ok(vec![
            ScalarValue::Binary(Some(v4)),
            ScalarValue::Binary(Some(v6)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let states_of = States::of(states)?;
        for i in 0..row_count(states) {
            states_of.merge_row(i, &mut self.set)?;
        }
        Ok(())
    }
}

/// One set per group, filled straight from the batch.
#[derive(Debug, Default)]
pub(crate) struct SourcesByGroup {
    sets: Vec<SourceSet>,
    /// Heap bytes of all sets, kept up to date per row: DataFusion asks after every batch,
    /// and summing tens of thousands of groups each time would cost more than the rows.
    heap_bytes: usize,
}

impl SourcesByGroup {
    fn grow(&mut self, total_num_groups: usize) {
        if self.sets.len() < total_num_groups {
            self.sets.resize_with(total_num_groups, SourceSet::default);
        }
    }

    fn take(&mut self, emit_to: EmitTo) -> Vec<SourceSet> {
        let taken = emit_to.take_needed(&mut self.sets);
        self.heap_bytes = self.sets.iter().map(SourceSet::heap_bytes).sum();
        taken
    }

    /// Applies `change` to group `g`'s set, keeping the byte count.
    fn with_set(
        &mut self,
        g: usize,
        change: impl FnOnce(&mut SourceSet) -> DfResult<()>,
    ) -> DfResult<()> {
        let Some(set) = self.sets.get_mut(g) else {
            return Ok(());
        };
        let before = set.heap_bytes();
        let result = change(set);
        self.heap_bytes = (self.heap_bytes + set.heap_bytes()).saturating_sub(before);
        result
    }
}

impl GroupsAccumulator for SourcesByGroup {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> DfResult<()> {
        self.grow(total_num_groups);
        let rows = Rows::of(values)?;
        for (i, &g) in group_indices.iter().enumerate() {
            if kept(opt_filter, i) {
                self.with_set(g, |set| rows.add(i, set))?;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> DfResult<ArrayRef> {
        let mut sets = self.take(emit_to);
        let counts: Int64Array = sets.iter_mut().map(|s| Some(count(s))).collect();
        Ok(Arc::new(counts))
    }

    fn state(&mut self, emit_to: EmitTo) -> DfResult<Vec<ArrayRef>> {
        let mut sets = self.take(emit_to);
        Ok(state_arrays(&mut sets))
    }

    /// States carry no FILTER: DataFusion applies it in the partial phase.
    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> DfResult<()> {
        self.grow(total_num_groups);
        let states = States::of(values)?;
        for (i, &g) in group_indices.iter().enumerate() {
            self.with_set(g, |set| states.merge_row(i, set))?;
        }
        Ok(())
    }

    /// Each row as its own group: its sources as a partial state.
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> DfResult<Vec<ArrayRef>> {
        let rows = Rows::of(values)?;
        let n = row_count(values);
        let mut sets: Vec<SourceSet> = Vec::with_capacity(n);
        for i in 0..n {
            let mut set = SourceSet::default();
            if kept(opt_filter, i) {
                rows.add(i, &mut set)?;
            }
            sets.push(set);
        }
        Ok(state_arrays(&mut sets))
    }

    fn size(&self) -> usize {
        self.sets.capacity() * std::mem::size_of::<SourceSet>() + self.heap_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::NullArray;

    fn addresses(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    #[test]
    fn text_and_sets_count_the_same() {
        let mut from_text = SourcesAccumulator::default();
        let text = addresses(&[
            Some("192.0.2.1"),
            Some("192.0.2.1"),
            None,
            Some("2001:db8::7"),
            Some("198.51.100.9"),
        ]);
        from_text
            .update_batch(&[text, Arc::new(NullArray::new(5))])
            .unwrap();
        let state = from_text.state().unwrap();
        let mut merged = SourcesAccumulator::default();
        let arrays: Vec<ArrayRef> = state.iter().map(|s| s.to_array().unwrap()).collect();
        merged.merge_batch(&arrays).unwrap();
        merged.merge_batch(&arrays).unwrap();
        assert_eq!(merged.evaluate().unwrap(), ScalarValue::Int64(Some(3)));

        // The same sources as encoded sets give the same count.
        let mut set = SourceSet::default();
        for a in ["192.0.2.1", "2001:db8::7", "198.51.100.9"] {
            set.insert(a.parse().unwrap());
        }
        let v4: ArrayRef = Arc::new(BinaryArray::from(vec![set.encode_v4().as_slice()]));
        let v6: ArrayRef = Arc::new(BinaryArray::from(vec![set.encode_v6().as_slice()]));
        let mut from_sets = SourcesAccumulator::default();
        from_sets.update_batch(&[v4, v6]).unwrap();
        assert_eq!(from_sets.evaluate().unwrap(), ScalarValue::Int64(Some(3)));
    }

    /// Groups, the FILTER clause, partial states per group and emitting the first groups.
    #[test]
    fn groups_count_their_own_rows_only() {
        let mut acc = SourcesByGroup::default();
        let text = addresses(&[
            Some("192.0.2.1"),
            Some("192.0.2.2"),
            Some("192.0.2.1"),
            Some("198.51.100.9"),
            Some("203.0.113.5"),
        ]);
        let null: ArrayRef = Arc::new(NullArray::new(5));
        let keep = BooleanArray::from(vec![true, true, true, true, false]);
        acc.update_batch(&[text, null], &[0, 0, 1, 2, 2], Some(&keep), 3)
            .unwrap();
        let state = acc.state(EmitTo::All).unwrap();
        let mut merged = SourcesByGroup::default();
        // Partial states of groups 0, 1, 2 land in final groups 1, 0, 1.
        merged.merge_batch(&state, &[1, 0, 1], 2).unwrap();
        let first = merged.evaluate(EmitTo::First(1)).unwrap();
        let first = first.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(first.values().to_vec(), vec![1]);
        let rest = merged.evaluate(EmitTo::All).unwrap();
        let rest = rest.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(rest.values().to_vec(), vec![3]);
    }

    #[test]
    fn views_and_large_binaries_read_in_place() {
        let mut set = SourceSet::default();
        set.insert("192.0.2.1".parse().unwrap());
        let bytes = set.encode_v4();
        let view: ArrayRef = Arc::new(BinaryViewArray::from(vec![bytes.as_slice()]));
        let large: ArrayRef = Arc::new(LargeBinaryArray::from(vec![bytes.as_slice()]));
        for col in [view, large] {
            let mut acc = SourcesAccumulator::default();
            acc.update_batch(&[col, Arc::new(NullArray::new(1))])
                .unwrap();
            assert_eq!(acc.evaluate().unwrap(), ScalarValue::Int64(Some(1)));
        }
    }

    #[test]
    fn other_types_are_refused_with_the_reason() {
        let mut acc = SourcesAccumulator::default();
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        let err = acc
            .update_batch(&[ints, Arc::new(NullArray::new(1))])
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("src_v4 and src_v6 or address text"),
            "{err}"
        );
    }
}
