"""normalise() never raises on odd values: everything odd becomes a problem or is ignored."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crisis_ct.kobo.normalise import NormalisedSubmission, normalise

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
keys = st.sampled_from(["_id", "_submission_time", "meta/deprecatedID", "meta/rootUuid", "__version__",
                        "consent", "site/site_id", "site/location", "site/assessment_date",
                        "pop/pop_uasc", "pop/pop_new_arrivals", "liv/liv_neg_coping",
                        "liv/liv_debt_share", "actors", "start", "unknown/thing"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, json_values, max_size=10))
def test_odd_values_never_raise(sample_form, values):
    record = {"_uuid": "abc", **values}
    assert isinstance(normalise(record, sample_form), NormalisedSubmission)
