// The calculator: every change asks the bot's API for the plan (the desk's own figures, as the
// chat shows them) and redraws; nothing is worked out here but where the price marker falls.
"use strict";

// Leverages the slider steps through: most of its travel is 1-10x; past the contract's
// maximum the list is cut.
const LEVERAGES = [1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100, 125];
const ASK_AFTER_MS = 120;

const $ = (id) => document.getElementById(id);
// `ownSettings`: opened without a plan's leverage and ratio (/app, the menu button), the first
// question leaves them to the user's /settings, and the sliders then show what the bot used.
const state = { venues: [], maxLeverage: 125, answer: null, chart: null, asked: 0, ownSettings: false, funding: null, fundingCoin: null };
const LINE_COLOURS = ["#2481cc", "#34c759", "#ff9500", "#af52de", "#ff2d55", "#5ac8fa", "#8e8e93"];

function applyTheme() {
  // Telegram's theme comes in the fragment too (tgWebAppThemeParams); its script sets the same
  // variables, but the page should not wait for it.
  const raw = new URLSearchParams(location.hash.slice(1)).get("tgWebAppThemeParams");
  if (!raw) return;
  try {
    for (const [key, value] of Object.entries(JSON.parse(raw))) {
      document.documentElement.style.setProperty(`--tg-theme-${key.replace(/_/g, "-")}`, value);
    }
  } catch (error) {
    // a theme that does not parse leaves the page's own colours
  }
}

function launchParams() {
  // Telegram passes initData in the URL's fragment (tgWebAppData) and, through its script, as
  // Telegram.WebApp.initData; the page works with either.
  const tg = window.Telegram && window.Telegram.WebApp;
  if (tg && tg.initData) return tg.initData;
  return new URLSearchParams(location.hash.slice(1)).get("tgWebAppData") || "";
}

function number(value, digits) {
  return Number(value).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const usd = (value) => `${number(value, 2)} USD`;
const coins = (value, coin) => `${number(value, 8).replace(/0+$/, "").replace(/\.$/, "")} ${coin}`;
const pct = (value, digits = 2) => `${value >= 0 ? "+" : ""}${number(value, digits)} %`;
const venueName = (id) => ({ bybit: "Bybit", binancecoinm: "Binance COIN-M", okx: "OKX", deribit: "Deribit", krakenfutures: "Kraken Futures", bitget: "Bitget", bingx: "BingX" })[id] || id;

function leverage() {
  return LEVERAGES[Number($("leverage").value)];
}
function ratio() {
  return Number($("ratio").value);
}
function priceMove() {
  return Number($("price").value);
}

function question() {
  const own = state.ownSettings;
  return {
    initData: launchParams(),
    coin: $("coin").value,
    quantity: $("quantity").value.trim().replace(",", "."),
    leverage: own ? null : String(leverage()),
    ratio: own ? null : `${ratio()}%`,
    venue: $("venue").value || null,
  };
}

function nearestLeverage(wanted) {
  return LEVERAGES.reduce((best, x, i) => (Math.abs(x - wanted) < Math.abs(LEVERAGES[best] - wanted) ? i : best), 0);
}

function showSliders() {
  $("leverage-out").value = `${leverage()}x`;
  $("leverage").setAttribute("aria-valuetext", `${leverage()}x`);
  $("ratio-out").value = `${ratio()} %`;
  $("ratio").setAttribute("aria-valuetext", `${ratio()} %`);
  const move = priceMove();
  const spot = state.answer && state.answer.plan.price;
  const text = move === 0 ? "now" : spot ? `${usd(spot * (1 + move / 100))} (${pct(move, 0)})` : pct(move, 0);
  $("price-out").value = text;
  $("price").setAttribute("aria-valuetext", text);
}

function fail(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

async function post(path, question) {
  // The bot's answer: {ok: true, ...} or {ok: false, error}, never a thrown error.
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(question),
    });
    return await response.json();
  } catch (error) {
    return { ok: false, error: "The bot did not answer: check the connection and try again." };
  }
}

let timer = null;
function askSoon() {
  showSliders();
  clearTimeout(timer);
  timer = setTimeout(ask, ASK_AFTER_MS);
}

async function ask() {
  if (ratio() === 0) {
    fail("A hedge ratio of 0 % hedges nothing: move it up to see a short.");
    return;
  }
  const asked = ++state.asked;
  const body = await post("api/plan", question());
  if (asked !== state.asked) return; // a later question was asked meanwhile
  if (!body.ok) {
    fail(body.error);
    return;
  }
  $("error").hidden = true;
  state.answer = body;
  render(body);
}

function figure(list, term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  list.append(dt, dd);
}

function rankedLeg(leg, chosen) {
  // One of the desk's legs, in its order; pressing it plans on that venue.
  const what = leg.kind === "perpetual"
    ? `perpetual: funding ${pct(leg.funding_apr_pct)} a year to the short`
    : `dated, ${leg.days_to_expiry} d${leg.locked_value_usd !== null ? `: locks ${usd(leg.locked_value_usd)}` : ""}`;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = `${venueName(leg.venue)} ${leg.venue_symbol}, ${what}`;
  button.setAttribute("aria-pressed", String(chosen));
  button.addEventListener("click", () => {
    if (![...$("venue").options].some((o) => o.value === leg.venue)) $("venue").add(new Option(venueName(leg.venue), leg.venue));
    $("venue").value = leg.venue;
    askSoon();
  });
  const item = document.createElement("li");
  item.append(button);
  return item;
}

function valueAt(prices, values, price) {
  // The payoff is a straight line between the bot's points: interpolate the marker on it.
  for (let i = 1; i < prices.length; i++) {
    if (price <= prices[i]) {
      const t = (price - prices[i - 1]) / (prices[i] - prices[i - 1]);
      return values[i - 1] + t * (values[i] - values[i - 1]);
    }
  }
  return values[values.length - 1];
}

function render({ plan, payoff }) {
  const leg = plan.legs[0];
  const coin = plan.coin;
  const demo = /demo/i.test(plan.data);
  const age = Math.round(leg.data_age_seconds / 60);
  $("source").textContent = `${plan.data} · ${venueName(leg.venue)} data ${age < 1 ? "under a minute" : `${number(age, 0)} min`} old`;
  $("source").classList.toggle("demo", demo);

  if (!state.venues.length && !$("venue").value) {
    state.venues = [...new Set(plan.legs.map((l) => l.venue))];
    for (const venue of state.venues) $("venue").add(new Option(venueName(venue), venue));
  }
  if (state.ownSettings) {
    state.ownSettings = false;
    $("leverage").value = String(nearestLeverage(plan.leverage));
    $("ratio").value = String(Math.round(plan.hedge_ratio * 100));
  }
  state.maxLeverage = leg.max_leverage || 125;
  const top = LEVERAGES.filter((x) => x <= state.maxLeverage).length - 1;
  $("leverage").max = String(top);

  const kind = leg.kind === "perpetual" ? "perpetual" : `dated, ${leg.days_to_expiry} d to expiry`;
  $("headline").textContent = `Short ${number(leg.order_amount, 0)} ${leg.order_amount_unit} on ${venueName(leg.venue)} ${leg.venue_symbol} (${kind})`;

  const list = $("figures");
  list.replaceChildren();
  figure(list, "Holding", `${coins(plan.quantity, coin)} = ${usd(plan.value_usd)} at ${usd(plan.price)}`);
  figure(list, "Short", `${usd(leg.notional_usd)} (${number(plan.hedge_ratio * 100, 0)} % hedged)`);
  figure(list, "Margin", `${coins(leg.margin_coin, coin)} at ${number(leg.leverage, 2).replace(/\.?0+$/, "")}x`);
  figure(list, "Coins kept", coins(leg.coins_kept, coin));
  figure(
    list,
    "Liquidation",
    leg.liquidation_price === null ? "none (fully collateralised)" : `${usd(leg.liquidation_price)} (${pct(leg.liquidation_distance_pct)} away)`,
  );
  if (leg.funding_per_day_usd !== null) {
    const side = leg.funding_per_day_usd >= 0 ? "you receive" : "you pay";
    figure(list, "Funding (short)", `${side} ${usd(Math.abs(leg.funding_per_day_usd))} a day, ${pct(leg.funding_apr_pct)} a year`);
  }
  const dated = plan.legs.find((l) => l.kind !== "perpetual" && l.locked_value_usd !== null);
  if (dated) {
    figure(list, "Dated instead", `${venueName(dated.venue)} ${dated.venue_symbol}: locks ${usd(dated.locked_value_usd)} in ${dated.days_to_expiry} d (${pct(dated.basis_apr_pct)} a year)`);
  }
  const spot = plan.price * (1 + priceMove() / 100);
  if (payoff) {
    const hedged = valueAt(payoff.prices, payoff.chosen.value_usd, spot);
    const unhedged = valueAt(payoff.prices, payoff.unhedged_usd, spot);
    figure(list, `At ${usd(spot)}`, `hedged ${usd(hedged)}, unhedged ${usd(unhedged)}`);
  }
  $("legs").replaceChildren(...plan.legs.map((l, i) => rankedLeg(l, i === 0)));
  $("track").hidden = demo;
  $("notes").replaceChildren(...plan.notes.map((text) => Object.assign(document.createElement("li"), { textContent: text })));
  showSliders();
  draw(plan, payoff, spot);
  showFunding();
}

function draw(plan, payoff, marker) {
  const box = $("chart");
  if (!payoff || !window.uPlot) {
    box.textContent = payoff ? "The chart could not load." : "No payoff chart for a cross hedge.";
    return;
  }
  const leg = payoff.chosen.leg;
  const liquidation = leg.liquidation_price;
  const series = [
    { label: "Price" },
    { label: "Unhedged", stroke: "#8e8e93", width: 2 },
    { label: `Hedged (${venueName(leg.venue)})`, stroke: getComputedStyle(document.body).getPropertyValue("--accent") || "#2481cc", width: 2 },
  ];
  const data = [payoff.prices, payoff.unhedged_usd, payoff.chosen.value_usd];
  if (payoff.alternative) {
    const alt = payoff.alternative.leg;
    series.push({ label: `${venueName(alt.venue)} ${alt.kind === "perpetual" ? "perpetual" : "dated at expiry"}`, stroke: "#34c759", width: 2, dash: [6, 4] });
    data.push(payoff.alternative.value_usd);
  }
  const { stroke: ink, grid } = axisStyle();
  const options = {
    width: box.clientWidth || 340,
    height: 220,
    series,
    legend: { live: false },
    scales: { x: { time: false } },
    axes: [
      { stroke: ink, grid, values: (u, ticks) => ticks.map((t) => `${number(t / 1000, 0)}k`), label: `${plan.coin} price, USD` },
      { stroke: ink, grid, values: (u, ticks) => ticks.map((t) => `${number(t / 1000, 0)}k`), size: 48, label: "USD" },
    ],
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          const { top, height, left, width } = u.bbox;
          if (liquidation !== null && liquidation < u.scales.x.max) {
            const from = Math.max(u.valToPos(liquidation, "x", true), left);
            ctx.fillStyle = "rgba(209, 64, 59, 0.12)";
            ctx.fillRect(from, top, left + width - from, height);
          }
          const x = u.valToPos(marker, "x", true);
          ctx.strokeStyle = "rgba(128, 128, 128, 0.9)";
          ctx.setLineDash([4, 4]);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.setLineDash([]);
        },
      ],
    },
  };
  if (state.chart) state.chart.destroy();
  box.replaceChildren();
  state.chart = new uPlot(options, data, box);
  const zone = liquidation === null ? "no liquidation" : `liquidation zone from ${usd(liquidation)} (shaded)`;
  $("chart-caption").textContent = `${plan.coin} holding's value in USD across prices: unhedged, hedged at ${number(leg.leverage, 2).replace(/\.?0+$/, "")}x${payoff.alternative ? ", and the alternative" : ""}; ${zone}; dashed line at ${usd(marker)}.`;
  box.setAttribute("aria-label", $("chart-caption").textContent);
}

function axisStyle() {
  const style = getComputedStyle(document.body);
  return {
    stroke: style.getPropertyValue("--text").trim() || "#1c1c1e",
    grid: { stroke: style.getPropertyValue("--card").trim() || "#e5e5ea", width: 1 },
  };
}

async function showFunding() {
  // Asked once per coin: the history does not move with the sliders.
  const coin = $("coin").value;
  if (state.fundingCoin === coin) return;
  state.fundingCoin = coin;
  const body = await post("api/funding", { initData: launchParams(), coin });
  const box = $("funding");
  if (!body.ok || !window.uPlot) {
    box.textContent = body.ok ? "The chart could not load." : body.error;
    return;
  }
  const lines = body.funding.lines.filter((line) => line.times.length);
  if (!lines.length) {
    box.textContent = `No funding history for ${coin} right now.`;
    return;
  }
  // One time axis for every venue: each line has its own settlement times, gaps elsewhere.
  const times = [...new Set(lines.flatMap((line) => line.times.map((t) => Date.parse(t) / 1000)))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const data = [times];
  for (const line of lines) {
    const values = new Array(times.length).fill(null);
    line.times.forEach((t, i) => { values[at.get(Date.parse(t) / 1000)] = line.apr_pct[i]; });
    data.push(values);
  }
  const { stroke, grid } = axisStyle();
  const series = [{ label: "Time" }, ...lines.map((line, i) => ({ label: venueName(line.venue), stroke: LINE_COLOURS[i % LINE_COLOURS.length], width: 1.5, spanGaps: true }))];
  if (state.funding) state.funding.destroy();
  box.replaceChildren();
  state.funding = new uPlot({
    width: box.clientWidth || 340,
    height: 160,
    series,
    legend: { live: false },
    axes: [{ stroke, grid }, { stroke, grid, size: 48, label: "% a year", values: (u, ticks) => ticks.map((t) => `${number(t, 0)}`) }],
  }, data, box);
  const averages = lines.map((line) => `${venueName(line.venue)} ${pct(line.apr_pct.reduce((a, b) => a + b, 0) / line.apr_pct.length)}`);
  $("funding-caption").textContent = `${coin} funding as a year's rate, positive when longs pay the short; average: ${averages.join(", ")}. Up to ${body.funding.as_of.slice(0, 16).replace("T", " ")} UTC.`;
  box.setAttribute("aria-label", $("funding-caption").textContent);
}

async function sendToChat() {
  const body = await post("api/send", question());
  if (!body.ok) return fail(body.error);
  const tg = window.Telegram && window.Telegram.WebApp;
  if (tg && tg.close) tg.close();
  else $("send").textContent = "Sent: see the chat";
}

async function trackHedge() {
  const body = await post("api/track", question());
  if (!body.ok) return fail(body.error);
  $("track").textContent = `Tracking ${body.tracked}: see /positions in the chat`;
  $("track").disabled = true;
}

function start() {
  applyTheme();
  const tg = window.Telegram && window.Telegram.WebApp;
  if (tg && tg.ready) {
    tg.ready();
    tg.expand();
  }
  const given = new URLSearchParams(location.search);
  if (given.get("coin")) {
    const coin = given.get("coin").toUpperCase();
    if (![...$("coin").options].some((o) => o.value === coin)) $("coin").add(new Option(coin, coin));
    $("coin").value = coin;
  }
  if (given.get("quantity")) $("quantity").value = given.get("quantity");
  if (given.get("leverage")) $("leverage").value = String(nearestLeverage(Number(given.get("leverage"))));
  state.ownSettings = !given.get("leverage") && !given.get("ratio");
  if (given.get("ratio")) $("ratio").value = String(Math.round(Number(given.get("ratio")) * 100));
  if (given.get("venue")) {
    $("venue").add(new Option(venueName(given.get("venue")), given.get("venue")));
    $("venue").value = given.get("venue");
  }
  for (const id of ["leverage", "ratio", "quantity", "coin", "venue"]) $(id).addEventListener("input", askSoon);
  $("price").addEventListener("input", () => state.answer && render(state.answer));
  $("holding").addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });
  $("send").addEventListener("click", sendToChat);
  $("track").addEventListener("click", trackHedge);
  if (!launchParams()) {
    fail("Open the calculator from HedgeBot's chat in Telegram: it needs Telegram's signature to know you.");
    return;
  }
  showSliders();
  ask();
}

document.addEventListener("DOMContentLoaded", start);
