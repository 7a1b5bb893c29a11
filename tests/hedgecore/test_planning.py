"""Hedge planning: sizing, margin, liquidation, funding, carry, ranking and cross hedges."""

import csv
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgecore import wording
from hedgecore.crosshedge import fit_min_variance
from hedgecore.errors import PlanningError
from hedgecore.inverse import hedged_value_usd
from hedgecore.models import (
    ContractKind,
    CrossHedgeFit,
    DataSource,
    Holding,
    MarginTier,
    MarketContract,
    PlanSettings,
    RiskKind,
    RiskNote,
    TierUnit,
)
from hedgecore.planning import leverage_table, plan_hedge, plan_leg, summarise_portfolio

from .builders import NOW, dated, perpetual

BTC = Holding(coin="BTC", quantity=D("1.2"))
DATA = Path(__file__).parent.parent / "data"


def notes_of(plan_notes: tuple[RiskNote, ...], kind: RiskKind) -> list[str]:
    return [note.text for note in plan_notes if note.kind is kind]


def test_one_x_plan_posts_all_coins_and_cannot_be_liquidated() -> None:
    plan = plan_hedge(BTC, [perpetual(price=D(60000), taker_fee_rate=D(0))], NOW)
    leg = plan.best
    assert leg.contracts == 72000
    assert leg.notional_usd == D(72000)
    assert leg.residual_usd == 0
    assert leg.margin_coin == D("1.2")
    assert leg.coins_kept == 0
    assert leg.liquidation_price is None
    assert "cannot be liquidated" in notes_of(plan.notes, RiskKind.LIQUIDATION)[0]


def test_three_x_plan_margin_custody_and_liquidation() -> None:
    plan = plan_hedge(
        BTC, [perpetual(price=D(60000), mmr=D("0.005"))], NOW, PlanSettings(leverage=D(3))
    )
    leg = plan.best
    assert leg.margin_coin == D("0.4")
    assert leg.fee_coin == D("0.0006")  # 72,000 x 0.05 % / 60,000, also paid from the account
    assert leg.coins_to_move == D("0.4006")
    assert leg.coins_kept == D("0.7994")
    # E (1 - MMR) L / (L - 1) = 60,000 x 0.995 x 1.5
    assert leg.liquidation_price == D("89550")
    assert leg.liquidation_distance_pct == D("49.25")
    note = notes_of(plan.notes, RiskKind.LIQUIDATION)[0]
    assert "rises 49.25% to 89,550.00 USD" in note
    assert "0.7994 BTC you keep are unhedged" in note


def test_funding_per_interval_day_and_year_for_the_short() -> None:
    market = perpetual(price=D(60000), funding_rate=D("0.0001"), taker_fee_rate=D(0))
    leg = plan_hedge(BTC, [market], NOW).best
    assert leg.funding_per_interval_coin == D("0.00012")  # N r / M = 72,000 x 0.0001 / 60,000
    assert leg.funding_per_interval_usd == D("7.2")
    assert leg.funding_per_day_usd == D("21.6")
    assert leg.funding_per_year_usd == D("7884")
    assert leg.funding_apr_pct == D("10.95")


def test_negative_funding_is_the_hedgers_cost_in_words() -> None:
    plan = plan_hedge(BTC, [perpetual(funding_rate=D("-0.0002"), taker_fee_rate=D(0))], NOW)
    assert plan.best.funding_per_interval_usd == D("-14.4")
    note = notes_of(plan.notes, RiskKind.FUNDING)[0]
    assert "shorts pay longs, so this hedge pays 14.40 USD every 8h" in note


def test_hourly_funding_is_annualised_per_hour() -> None:
    leg = plan_hedge(
        BTC,
        [
            perpetual(
                venue="krakenfutures",
                funding_rate=D("0.00001"),
                interval_hours=D(1),
                taker_fee_rate=D(0),
            )
        ],
        NOW,
    ).best
    assert leg.funding_per_day_usd == D("17.28")  # 24 x 72,000 x 0.00001
    assert leg.funding_apr_pct == D("8.76")


def test_dated_leg_locks_notional_and_annualises_basis() -> None:
    future = dated(
        futures_price=D(61500),
        index_price=D(60000),
        expiry=NOW + timedelta(days=73),
        taker_fee_rate=D(0),
    )
    plan = plan_hedge(BTC, [future], NOW)
    leg = plan.best
    assert leg.kind is ContractKind.DATED
    assert leg.contracts == 738  # 1.2 x 61,500 = 73,800 USD in 100 USD contracts
    assert leg.locked_value_usd == D(73800)
    assert leg.basis_pct == D("2.5")
    assert leg.basis_apr_pct == D("12.5")
    assert leg.funding_rate is None
    # It earns the whole premium N (1 - S/F0) = 1,800 USD within a 30-day horizon's share of 73 days.
    assert leg.carry_usd == pytest.approx(D(1800) * 30 / 73, abs=D("1e-18"))
    assert any(
        "locks 73,800.00 USD at expiry" in text for text in notes_of(plan.notes, RiskKind.BASIS)
    )


def test_expired_future_is_refused() -> None:
    with pytest.raises(PlanningError, match="expired"):
        plan_hedge(BTC, [dated(expiry=NOW - timedelta(hours=1))], NOW)


def test_ranking_by_net_carry_and_why() -> None:
    markets = [
        perpetual(venue="okx", funding_rate=D("0.00005"), contract_size_usd=D(100)),
        perpetual(venue="bybit", funding_rate=D("0.0001")),
        perpetual(venue="binancecoinm", funding_rate=D("-0.0001"), contract_size_usd=D(100)),
        perpetual(venue="deribit", funding_rate=None, contract_size_usd=D(10)),
    ]
    plan = plan_hedge(BTC, markets, NOW)
    assert [leg.venue for leg in plan.legs] == ["bybit", "okx", "binancecoinm", "deribit"]
    best, runner = plan.legs[0], plan.legs[1]
    assert best.net_carry_usd is not None
    assert runner.net_carry_usd is not None
    # 72,000 / 1.0005 USD leaves the 1.2 BTC room for the 0.05 % opening fee: 71,964 contracts.
    assert best.notional_usd == 71964
    assert best.net_carry_usd == 71964 * D("0.0001") * 3 * 30 - 2 * 71964 * D("0.0005")
    assert plan.ranking_reason.startswith(
        "Bybit BTC/USD:BTC comes first: +575.71 USD expected over 30 days"
    )
    # OKX: 719 contracts of 100 USD, 71,900 x 0.00005 x 3 x 30 - 2 x 71,900 x 0.0005 = 251.65
    assert "324.06 USD more than OKX" in plan.ranking_reason


def test_higher_fees_can_outweigh_funding_over_a_short_horizon() -> None:
    cheap = perpetual(venue="okx", funding_rate=D("0.0001"), taker_fee_rate=D("0.0002"))
    dear = perpetual(venue="bybit", funding_rate=D("0.00011"), taker_fee_rate=D("0.001"))
    assert plan_hedge(BTC, [cheap, dear], NOW, PlanSettings(horizon_days=1)).best.venue == "okx"
    assert plan_hedge(BTC, [cheap, dear], NOW, PlanSettings(horizon_days=365)).best.venue == "bybit"


def test_rounding_leaves_a_shown_residual() -> None:
    plan = plan_hedge(
        Holding(coin="BTC", quantity=D("1.234")), [perpetual(contract_size_usd=D(100))], NOW
    )
    leg = plan.best
    assert leg.target_notional_usd == D(74040)
    assert leg.contracts == 740
    assert leg.residual_usd == D(40)
    assert "leave 40.00 USD unhedged" in notes_of(plan.notes, RiskKind.ROUNDING)[0]


@given(
    quantity=st.decimals(min_value=D("0.01"), max_value=D(1000), places=6),
    price=st.decimals(min_value=D(1), max_value=D(200000), places=2),
    contract_size=st.sampled_from([D(1), D(10), D(100)]),
    ratio=st.decimals(min_value=D("0.1"), max_value=D(2), places=2),
)
def test_rounding_stays_within_a_contract_and_never_asks_for_coins_not_held(
    quantity: D, price: D, contract_size: D, ratio: D
) -> None:
    market = perpetual(price=price, contract_size_usd=contract_size)
    leg = plan_leg(
        Holding(coin="BTC", quantity=quantity), market, PlanSettings(hedge_ratio=ratio), NOW, price
    )
    assert leg.notional_usd - leg.target_notional_usd <= contract_size / 2
    assert leg.residual_usd == leg.target_notional_usd - leg.notional_usd
    if ratio <= 1:  # at 1x the margin asked for is the hedged share of the holding
        if leg.coins_missing == 0:
            # Sized down, never up, so that the margin and the opening fee fit the coins held.
            assert leg.coins_to_move <= quantity
            fee_room_usd = leg.target_notional_usd * leg.fee_rate / (1 + leg.fee_rate)
            assert leg.target_notional_usd - leg.notional_usd < fee_room_usd + contract_size
        else:  # a holding worth about one contract keeps it and is told to bring the fee
            assert leg.contracts == 1
    else:
        assert leg.target_notional_usd - leg.notional_usd <= contract_size / 2


def test_the_default_plan_fits_the_coins_held_where_rounding_up_would_not() -> None:
    # 1.2 BTC at 93,722.4: 112,466.88 USD; the nearest 1 USD contract count, 112,467, would
    # need 0.00000128 BTC more than held, and the venue takes the 0.05 % opening fee from the
    # same account: 112,466.88 / 1.0005 = 112,410.67 contracts is what the coins pay for.
    market = perpetual(price=D("93722.4"), contract_size_usd=D(1))
    plan = plan_hedge(Holding(coin="BTC", quantity=D("1.2")), [market], NOW)
    leg = plan.best
    assert leg.contracts == 112_410
    assert leg.coins_missing == 0
    assert leg.coins_to_move == leg.margin_coin + leg.fee_coin <= D("1.2")
    assert leg.coins_to_move + D(1) / D("93722.4") * D("1.0005") > D("1.2")  # one more won't fit
    assert leg.residual_usd == D("56.88")
    assert not any("more than you hold" in note.text for note in plan.notes)
    # Asking for more than the coins can margin still says so.
    double = plan_hedge(
        Holding(coin="BTC", quantity=D("1.2")), [market], NOW, PlanSettings(hedge_ratio=D(2))
    )
    assert double.best.coins_missing > D("1.1")
    assert any("more than you hold" in note.text for note in double.notes)


def bitget_perpetual(price: D) -> MarketContract:
    """A Bitget-like perpetual: orders in steps of 0.001 BTC, each worth that at the price."""
    step = D("0.001")
    return perpetual(
        venue="bitget",
        price=price,
        contract_size_usd=step * price,
        taker_fee_rate=D("0.0006"),
        order_amount_unit="coin",
        order_step_coin=step,
    )


def test_a_venue_taking_coins_is_told_coins_and_the_fee_still_fits() -> None:
    # 1.2 BTC at 1x with Bitget's 0.06 % fee: 1.2 / 1.0006 = 1.19928 BTC is what the coins pay
    # for, so 1,199 steps of 0.001 BTC; 1.2 BTC would need 0.00072 BTC of fee more than held.
    plan = plan_hedge(Holding(coin="BTC", quantity=D("1.2")), [bitget_perpetual(D("93716.5"))], NOW)
    leg = plan.best
    assert (leg.contracts, leg.order_amount, leg.order_amount_unit) == (1199, D("1.199"), "coin")
    assert leg.notional_usd == D("1.199") * D("93716.5")
    assert leg.margin_coin == D("1.199")  # at 1x the margin is the coins shorted
    assert leg.coins_to_move == D("1.199") * D("1.0006") <= D("1.2")
    assert leg.coins_to_move + D("0.001") * D("1.0006") > D("1.2")  # one more step won't fit
    assert wording.order(leg) == "sell 1.199 BTC (in steps of 0.001 BTC)"
    assert wording.short_size(leg) == "1.199 BTC"


@given(
    quantity=st.decimals(min_value=D("0.01"), max_value=D(100), places=4),
    price=st.decimals(min_value=D(1000), max_value=D(200000), places=1),
)
def test_a_coin_sized_short_is_the_holding_in_whole_steps(quantity: D, price: D) -> None:
    leg = plan_hedge(Holding(coin="BTC", quantity=quantity), [bitget_perpetual(price)], NOW).best
    assert leg.order_amount == leg.contracts * D("0.001")
    assert leg.notional_usd == leg.order_amount * price
    # Never more coins than held (margin and fee), and less only by the fee and a step.
    assert leg.coins_to_move <= quantity
    assert quantity - leg.order_amount < quantity * leg.fee_rate + D("0.001")


@given(move=st.decimals(min_value=D("0.2"), max_value=D(5), places=3))
def test_planned_one_x_hedge_moves_only_by_its_rounding_residual(move: D) -> None:
    entry = D("61234.5")
    leg = plan_hedge(
        Holding(coin="BTC", quantity=D("0.777")),
        [perpetual(price=entry, contract_size_usd=D(10))],
        NOW,
    ).best
    later = entry * move
    change = hedged_value_usd(D("0.777"), leg.notional_usd, entry, later) - hedged_value_usd(
        D("0.777"), leg.notional_usd, entry, entry
    )
    # V(P) - V(E) = (P - E)(Q - N/E): only the unhedged residual moves.
    assert change == pytest.approx((later - entry) * leg.residual_usd / entry, abs=D("1e-15"))


def test_hedge_ratio_and_missing_margin() -> None:
    half = plan_hedge(BTC, [perpetual()], NOW, PlanSettings(hedge_ratio=D("0.5"))).best
    assert half.notional_usd == D(36000)
    assert half.coins_kept == D("0.5997")  # 0.6 BTC margin and 0.0003 BTC fee go to the venue
    double = plan_hedge(BTC, [perpetual()], NOW, PlanSettings(hedge_ratio=D(2)))
    assert double.best.coins_missing == D("1.2012")  # 2.4 BTC margin + 0.0012 BTC fee - 1.2
    note = notes_of(double.notes, RiskKind.MARGIN)[0]
    assert "Posting 2.4 BTC at 1x and the opening fee needs 1.2012 BTC more than you hold" in note


def test_deribit_orders_are_in_usd() -> None:
    market = perpetual(
        venue="deribit", contract_size_usd=D(10), order_amount_unit="usd", taker_fee_rate=D(0)
    )
    leg = plan_hedge(BTC, [market], NOW).best
    assert leg.contracts == 7200
    assert leg.order_amount == D(72000)
    assert leg.order_amount_unit == "usd"


def test_margin_tiers_pick_the_tier_the_short_liquidates_in() -> None:
    tiers = (
        MarginTier(
            max_size=D(1),
            size_unit=TierUnit.COIN,
            maintenance_margin_rate=D("0.005"),
            max_leverage=D(100),
        ),
        MarginTier(
            max_size=D(10),
            size_unit=TierUnit.COIN,
            maintenance_margin_rate=D("0.01"),
            maintenance_deduction_coin=D("0.005"),
            max_leverage=D(50),
        ),
    )
    # 1.2 BTC is in tier 2 at entry; at 3x it liquidates near 89,500, where its value is < 1 BTC.
    leg = plan_hedge(BTC, [perpetual(tiers=tiers)], NOW, PlanSettings(leverage=D(3))).best
    assert leg.maintenance_margin_rate == D("0.005")
    assert leg.liquidation_price == D("89550")
    assert leg.max_leverage == D(50)
    # Without room to fall back, tier 2's rate and deduction apply: N(1-MMR)/(N/E - m - d).
    big = plan_hedge(
        Holding(coin="BTC", quantity=D(6)),
        [perpetual(tiers=tiers)],
        NOW,
        PlanSettings(leverage=D(3)),
    ).best
    assert big.maintenance_margin_rate == D("0.01")
    assert big.liquidation_price == pytest.approx(
        D(360000) * D("0.99") / (D(6) - D(2) - D("0.005")), abs=D("1e-18")
    )


def test_a_liquidation_on_a_flat_rate_says_larger_positions_liquidate_sooner() -> None:
    tiered = MarginTier(
        max_size=D(100), size_unit=TierUnit.COIN, maintenance_margin_rate=D("0.005")
    )
    settings = PlanSettings(leverage=D(3))
    with_tiers = plan_hedge(BTC, [perpetual(tiers=(tiered,))], NOW, settings)
    flat = plan_hedge(BTC, [perpetual(venue="binancecoinm", mmr=D("0.004"))], NOW, settings)
    warning = "This uses a flat 0.40% maintenance rate (Binance COIN-M's margin tiers were not"
    assert warning in notes_of(flat.notes, RiskKind.LIQUIDATION)[0]
    assert "flat" not in notes_of(with_tiers.notes, RiskKind.LIQUIDATION)[0]


def test_leverage_a_venue_would_refuse_leaves_it_out_or_refuses_the_plan() -> None:
    tiers = (
        MarginTier(
            max_size=D(100),
            size_unit=TierUnit.COIN,
            maintenance_margin_rate=D("0.005"),
            max_leverage=D(20),
        ),
    )
    capped = perpetual(tiers=tiers)
    with pytest.raises(
        PlanningError, match=r"25x is too much leverage for BTC here: .* allows at most 20x"
    ):
        plan_hedge(BTC, [capped], NOW, PlanSettings(leverage=D(25)))
    # Beside a venue that takes it, the capped one is left out with the reason.
    other = perpetual(venue="okx", mmr=D("0.004"))
    plan = plan_hedge(BTC, [capped, other], NOW, PlanSettings(leverage=D(25)))
    assert [leg.venue for leg in plan.legs] == ["okx"]
    assert "left out: it allows at most 20x" in " ".join(notes_of(plan.notes, RiskKind.MARGIN))
    # At 125x a 1% maintenance margin is more than is posted: liquidated at once, refused.
    with pytest.raises(PlanningError, match="would be liquidated at once"):
        plan_hedge(BTC, [perpetual(mmr=D("0.01"))], NOW, PlanSettings(leverage=D(125)))


def test_leverage_table_rows() -> None:
    market = perpetual(price=D(60000), mmr=D("0.005"), taker_fee_rate=D(0))
    plan = plan_hedge(BTC, [market], NOW)
    rows = leverage_table(plan, market)
    assert [row.leverage for row in rows] == [1, 2, 3, 5, 10]
    assert [row.margin_coin for row in rows] == [D("1.2"), D("0.6"), D("0.4"), D("0.24"), D("0.12")]
    assert [row.coins_kept for row in rows] == [0, D("0.6"), D("0.8"), D("0.96"), D("1.08")]
    assert rows[0].liquidation_price is None
    distances = [row.liquidation_distance_pct for row in rows[1:]]
    assert distances == sorted(distances, reverse=True)  # type: ignore[type-var]


def test_too_small_holding_is_refused_and_small_venues_dropped() -> None:
    with pytest.raises(PlanningError, match="less than half a contract"):
        plan_hedge(
            Holding(coin="BTC", quantity=D("0.0005")), [perpetual(contract_size_usd=D(100))], NOW
        )
    plan = plan_hedge(
        Holding(coin="BTC", quantity=D("0.0005")),
        [perpetual(venue="okx", contract_size_usd=D(100)), perpetual(venue="bybit")],
        NOW,
    )
    assert [leg.venue for leg in plan.legs] == ["bybit"]
    assert "OKX BTC/USD:BTC left out" in " ".join(notes_of(plan.notes, RiskKind.ROUNDING))


def test_contracts_of_another_coin_are_refused() -> None:
    with pytest.raises(PlanningError, match="do not settle in BTC"):
        plan_hedge(BTC, [perpetual(coin="ETH")], NOW)
    with pytest.raises(PlanningError, match="no inverse contract"):
        plan_hedge(BTC, [], NOW)


def test_notes_cover_custody_basis_and_data_age() -> None:
    plan = plan_hedge(
        BTC, [perpetual(price=D(60030), index_price=D(60000), age=timedelta(seconds=12))], NOW
    )
    assert "sits with Bybit" in notes_of(plan.notes, RiskKind.CUSTODY)[0]
    assert "+0.050% against the index" in notes_of(plan.notes, RiskKind.BASIS)[0]
    assert notes_of(plan.notes, RiskKind.DATA_AGE) == [
        "Prices from Bybit are 12 s old (2026-11-29 11:59 UTC)."
    ]
    snapshot = plan_hedge(BTC, [perpetual(source=DataSource.SNAPSHOT, age=timedelta(days=2))], NOW)
    assert notes_of(snapshot.notes, RiskKind.DATA_AGE) == [
        "Prices from Bybit come from an offline snapshot (quoted 2026-11-27 12:00 UTC): not live data."
    ]


def test_deribit_realised_funding_is_labelled() -> None:
    plan = plan_hedge(
        BTC, [perpetual(venue="deribit", realised=True, contract_size_usd=D(10))], NOW
    )
    assert "realised over the last 8h, not a forecast" in notes_of(plan.notes, RiskKind.FUNDING)[0]


def test_funding_history_from_real_bybit_rates() -> None:
    with (DATA / "bybit_btcusd_8h_2018-11_slice.csv").open() as handle:
        rates = [D(row["Funding Rate"]) for row in csv.DictReader(handle)]
    # 120 settlements from 2018-11-15 to 2018-12-25; 35 of them negative (counted with awk),
    # -0.00904 % per 8 hours on average: -9.90 % a year.
    plan = plan_hedge(BTC, [perpetual()], NOW, funding_history={"bybit": rates})
    note = notes_of(plan.notes, RiskKind.FUNDING)[0]
    assert (
        "Over the 120 intervals of history given it paid a short -9.90% a year on average and "
        "cost it 35 times (29%)." in note
    )
    assert note.endswith(
        "the advice to hedge only when funding is low or negative gets it backwards."
    )


def test_the_risks_say_what_more_margin_does_and_why_not_a_stop_loss() -> None:
    plan = plan_hedge(
        BTC, [perpetual(price=D(60000), mmr=D("0.005"))], NOW, PlanSettings(leverage=D(5))
    )
    note = notes_of(plan.notes, RiskKind.LIQUIDATION)[0]
    # At 2x: E (1 - MMR) L / (L - 1) = 60,000 x 0.995 x 2 = 119,400, 99% away.
    assert "At 2x (0.6 BTC posted) it would be near 119,400.00 USD, 99.00% away." in note
    assert "A stop-loss on the short would close the hedge exactly when the price rises" in note
    custody = notes_of(plan.notes, RiskKind.CUSTODY)[0]
    assert custody.endswith(
        "A futures hedge is not free of counterparty risk, whatever some guides say."
    )


def _fit(beta: str, r_squared: str = "0.8") -> CrossHedgeFit:
    return CrossHedgeFit(
        coin="SOL",
        proxy_coin="BTC",
        beta=D(beta),
        correlation=D(r_squared).sqrt(),
        r_squared=D(r_squared),
        observations=89,
    )


def test_cross_hedge_needs_leverage_and_is_sized_for_the_margin_it_posts() -> None:
    holding = Holding(coin="SOL", quantity=D(500))
    market = perpetual(price=D(60000), contract_size_usd=D(1))
    plan = plan_hedge(holding, [market], NOW, cross_hedge=_fit("1.5"), holding_price=D(150))
    leg = plan.best
    assert plan.leverage == 2
    assert "Planned at 2x, not 1x" in " ".join(notes_of(plan.notes, RiskKind.CROSS_HEDGE))
    exposure = D("1.5") * 500 * 150  # 112,500 USD of BTC to be short
    assert leg.target_notional_usd == exposure * 2  # N = X L / (L - 1)
    assert leg.hedged_exposure_usd == exposure  # the posted margin offsets the other half
    assert leg.margin_coin == D("1.875")  # N / (E L) = 225,000 / 120,000 BTC to bring
    assert leg.coins_missing == leg.margin_coin + leg.fee_coin == D("1.876875")
    assert leg.coins_kept == 500

    # Short plus posted BTC: USD delta is -X, so a 1 % BTC rise loses 1 % of X.
    def account_usd(price: D) -> D:
        return leg.margin_coin * price + hedged_value_usd(D(0), leg.notional_usd, D(60000), price)

    assert account_usd(D(60600)) - account_usd(D(60000)) == pytest.approx(
        -exposure / 100, abs=D("1e-15")
    )
    assert leg.liquidation_price == D("119400")  # 60,000 x 0.995 x 2
    text = " ".join(note.text for note in plan.notes)
    assert (
        "You need 1.876875 BTC (about 112,612.50 USD) on Bybit for margin and the opening fee"
        in text
    )
    assert "removes about 80% of the variance and 20% remains" in text
    assert "your 500 SOL are unhedged from there" in text


def test_cross_hedge_refuses_a_proxy_that_moves_the_other_way() -> None:
    with pytest.raises(PlanningError, match="moved against BTC"):
        plan_hedge(
            Holding(coin="SOL", quantity=D(1)),
            [perpetual()],
            NOW,
            cross_hedge=_fit("-0.3"),
            holding_price=D(150),
        )
    with pytest.raises(PlanningError, match="needs the USD price"):
        plan_hedge(Holding(coin="SOL", quantity=D(1)), [perpetual()], NOW, cross_hedge=_fit("1"))


def test_cross_hedge_from_fitted_real_prices() -> None:
    # Bybit's BTC inverse perpetual closes against BTC spot closes: near one-for-one, as they should be.
    with (DATA / "bybit_btcusd_8h_2018-11_slice.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    fit = fit_min_variance(
        "BTC", "BTC", [D(r["Close_spot"]) for r in rows], [D(r["Close_futures"]) for r in rows]
    )
    assert fit.observations == 119
    assert D("0.9") < fit.beta < D("1.1")
    assert fit.r_squared > D("0.9")


def test_portfolio_totals_use_each_best_leg() -> None:
    btc = plan_hedge(BTC, [perpetual(funding_rate=D("0.0001"), taker_fee_rate=D(0))], NOW)
    eth = plan_hedge(
        Holding(coin="ETH", quantity=D(10)),
        [perpetual(coin="ETH", price=D(3000), contract_size_usd=D(10), taker_fee_rate=D(0))],
        NOW,
    )
    portfolio = summarise_portfolio([btc, eth])
    assert portfolio.value_usd == D(72000) + D(30000)
    assert portfolio.hedged_exposure_usd == D(102000)
    assert portfolio.funding_per_year_usd == D("7884") + D(30000) * D("0.1095")
    with pytest.raises(PlanningError):
        summarise_portfolio([])


def test_an_assumed_funding_interval_is_said_where_the_rate_is() -> None:
    said = plan_hedge(BTC, [perpetual(interval_hours=D(4))], NOW).best
    assumed = plan_hedge(BTC, [perpetual(interval_from_venue=False)], NOW).best
    assert (wording.funding(said) or "").startswith("+0.0100% per 4h: you receive")
    assert (wording.funding(assumed) or "").startswith("+0.0100% per 8h (assumed): you receive")


def test_the_bid_ask_spread_is_a_cost_and_can_decide_the_ranking() -> None:
    # Bybit pays a little more funding but quotes 60,000 / 60,120 (0.2 % wide): opening at the bid
    # and closing at the ask costs 72,000 x 0.1998 % = 143.86 USD, more than its lead.
    wide = perpetual(funding_rate=D("0.00011"), ask=D(60120), taker_fee_rate=D(0))
    tight = perpetual(venue="okx", ask=D("60000.5"), taker_fee_rate=D(0))
    plan = plan_hedge(BTC, [wide, tight], NOW, PlanSettings(leverage=D(3)))
    bybit = next(leg for leg in plan.legs if leg.venue == "bybit")
    assert bybit.spread_pct == pytest.approx(D(120) / D(60060) * 100)
    assert bybit.spread_cost_usd == pytest.approx(D(72000) * D(120) / D(60060))
    assert bybit.net_carry_usd == bybit.carry_usd - bybit.spread_cost_usd  # type: ignore[operator]
    assert plan.best.venue == "okx"
    assert plan.ranking_reason.endswith("than Bybit BTC/USD:BTC, whose wider spread decided it")
    (note,) = notes_of(plan_hedge(BTC, [wide], NOW).notes, RiskKind.LIQUIDITY)
    assert note.startswith("The bid-ask spread of Bybit BTC/USD:BTC is 0.200%: crossing it")
    assert not notes_of(plan.notes, RiskKind.LIQUIDITY)  # OKX's 0.001 % is no risk to mention


def test_an_order_large_against_the_contracts_volume_says_so() -> None:
    market = perpetual(taker_fee_rate=D(0))
    thin = market.model_copy(
        update={"quote": market.quote.model_copy(update={"volume_24h_usd": D(1_000_000)})}
    )
    (note,) = notes_of(plan_hedge(BTC, [thin], NOW).notes, RiskKind.LIQUIDITY)
    assert note.startswith("The order is 7.2% of a day's volume on Bybit BTC/USD:BTC (1M USD)")
    deep = thin.model_copy(
        update={"quote": thin.quote.model_copy(update={"volume_24h_usd": D(10) ** 9})}
    )
    assert not notes_of(plan_hedge(BTC, [deep], NOW).notes, RiskKind.LIQUIDITY)
