"""Bad input is refused with an InputError naming the file, row and field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commonweal.analytics.matching import (
    MatchConfig,
    Need,
    Offer,
    ScoreWeights,
    VolunteerState,
    match,
    normalise_category,
    prepare,
    repeat_window,
)
from commonweal.errors import InputError


def where(err):
    return {(p.file, p.row, p.field) for p in err.value.problems}


def test_unknown_category_lat_out_of_range_and_reversed_window():
    needs = [
        Need("ok", "groceries", 52.5, 13.4, 0, 3600),
        Need("bad-cat", "dog walking", 52.5, 13.4, 0, 3600),
        Need("bad-lat", "groceries", 95.0, 13.4, 0, 3600),
        Need("bad-win", "groceries", 52.5, 13.4, 7200, 3600),
    ]
    with pytest.raises(InputError) as err:
        prepare(needs, [])
    assert where(err) == {("needs", 2, "category"), ("needs", 3, "lat"), ("needs", 4, "window_end")}
    assert "dog walking" in str(err.value)


def test_offer_problems_are_all_reported_at_once():
    offers = [
        Offer("o1", "v1", ("groceries", "astrology"), 52.5, 200.0, max_distance_km=0, capacity=-1),
        Offer("o1", "v1", (), 52.5, 13.4, windows=((10, 5),)),
    ]
    with pytest.raises(InputError) as err:
        prepare([], offers)
    assert where(err) == {
        ("offers", 1, "categories"),
        ("offers", 1, "lon"),
        ("offers", 1, "max_distance_km"),
        ("offers", 1, "capacity"),
        ("offers", 2, "id"),
        ("offers", 2, "categories"),
        ("offers", 2, "windows[0]"),
    }


def test_urgency_quantity_language_and_volunteer_checks():
    needs = [
        Need("a", "groceries", 52.5, 13.4, 0, 1, urgency="whenever"),
        Need("b", "groceries", 52.5, 13.4, 0, 1, urgency=7, quantity=0),
        Need("c", "groceries", 52.5, 13.4, 0, 1, language_required=True),
    ]
    vols = [VolunteerState("v", -1), VolunteerState("v", 2)]
    with pytest.raises(InputError) as err:
        prepare(needs, [], vols)
    assert where(err) == {
        ("needs", 1, "urgency"),
        ("needs", 2, "urgency"),
        ("needs", 2, "quantity"),
        ("needs", 3, "languages"),
        ("volunteers", 1, "monthly_cap"),
        ("volunteers", 2, "volunteer_id"),
    }


def test_names_aliases_and_datetimes_are_accepted():
    assert normalise_category("Check-in calls") == "check_in"
    assert normalise_category("Companionship") == "check_in"
    assert normalise_category("Financial help") == "financial_help"
    assert normalise_category("knitting") is None
    t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
    t1 = datetime(2026, 3, 1, 11, tzinfo=UTC)
    needs = [Need("n", "Prepared food", 52.5, 13.4, t0, t1, urgency="critical")]
    offers = [
        Offer("o", "v", ("meals",), 52.5, 13.4, windows=((t0.timestamp(), t1.timestamp() + 60),))
    ]
    problem = prepare(needs, offers)
    assert problem.need_urgency.tolist() == [4]
    assert problem.need_end[0] - problem.need_start[0] == 7200
    r = match(needs, offers)
    assert r.pairs() == [("n", "o")]
    assert "critical" in r.suggestions[0].reasons
    naive = [Need("n", "groceries", 52.5, 13.4, datetime(2026, 3, 1), datetime(2026, 3, 2))]
    with pytest.raises(InputError):
        prepare(naive, [])


def test_bad_weights_and_config():
    needs = [Need("n", "groceries", 52.5, 13.4, 0, 1)]
    with pytest.raises(InputError) as err:
        match(needs, [], config=MatchConfig(weights=ScoreWeights(distance=-1)))
    assert {p.field for p in err.value.problems} == {"distance"}
    with pytest.raises(InputError):
        match(needs, [], config=MatchConfig(sensitive_categories=frozenset({"sorcery"})))


def test_repeat_window():
    assert repeat_window(0, 10, 100, 3) == ((0.0, 10.0), (100.0, 110.0), (200.0, 210.0))


def test_polars_frames_give_the_same_records():
    import polars as pl

    from commonweal.analytics.matching import (
        needs_from_frame,
        offers_from_frame,
        volunteers_from_frame,
    )

    t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
    needs = pl.DataFrame(
        {
            "id": ["n1", "n2"],
            "category": ["groceries", "translation"],
            "lat": [52.52, 52.53],
            "lon": [13.40, 13.41],
            "window_start": [t0, t0],
            "window_end": [t0.replace(hour=11), t0.replace(hour=12)],
            "urgency": [2, 3],
            "languages": ["es, en", "tr"],
            "language_required": [False, True],
        }
    )
    offers = pl.DataFrame(
        {
            "id": ["o1", "o2"],
            "volunteer_id": ["v1", "v2"],
            "categories": [["groceries"], ["translation", "information"]],
            "lat": [52.52, 52.53],
            "lon": [13.40, 13.41],
            "window_start": [None, t0.timestamp()],
            "window_end": [None, t0.timestamp() + 3600],
            "languages": [["en"], ["tr", "de"]],
        }
    )
    vols = pl.DataFrame({"volunteer_id": ["v1"], "monthly_cap": [3], "taken_this_month": [1]})
    n, o, v = needs_from_frame(needs), offers_from_frame(offers), volunteers_from_frame(vols)
    assert n[0].languages == ("es", "en") and n[1].language_required is True
    assert n[0].window_end - n[0].window_start == 7200
    assert o[0].windows == () and o[1].windows == ((t0.timestamp(), t0.timestamp() + 3600),)
    assert v == [VolunteerState("v1", 3, 1)]
    assert sorted(match(n, o, v).pairs()) == [("n1", "o1"), ("n2", "o2")]
    with pytest.raises(InputError) as err:
        needs_from_frame(needs.drop("lat"))
    assert where(err) == {("needs", None, "lat")}
    naive = needs.with_columns(pl.col("window_start").dt.replace_time_zone(None))
    with pytest.raises(InputError):
        needs_from_frame(naive)


def test_docstring_examples_run():
    import doctest

    import commonweal.analytics.matching as pkg
    import commonweal.analytics.matching.model as model

    for mod in (pkg, model):
        failed, attempted = doctest.testmod(mod)
        assert attempted > 0 and failed == 0, mod.__name__
