// The Overview: the clicks of all the caller's links together over a period (`GET /api/stats`:
// totals, the chart by day, the breakdowns) and the period's most clicked links
// (`GET /api/stats/top`), with the period control of a link's page, kept in the hash query.
import { enc, get, qs } from "../api";
import { type Period } from "../logic";
import { LoadError, useLoad } from "../ui";
import { Breakdown, BREAKDOWNS, ClicksChart, PeriodForm, periodKey, type Stats, statsQuery, usePeriod } from "./stats";

const accountStats = (p: Period, group: string) => `/api/stats${statsQuery(p, group)}`;

const TOP_LIMIT = "10";

/// The period's most clicked links, most first, counted as the totals above are (bots too when
/// "Include bots" says so).
function TopLinks({ period }: { period: Period }) {
  const top = useLoad(
    () =>
      get<{ links: { slug: string; url: string; clicks: number }[] }>(
        `/api/stats/top${qs({ from: period.from, to: period.to, limit: TOP_LIMIT, include_bots: period.bots ? "true" : undefined })}`,
      ),
    [periodKey(period)],
  );
  return (
    <section class="top-links" aria-labelledby="top-links">
      <h2 id="top-links">Top links</h2>
      <p class="muted">
        {period.bots ? "Clicks, bots included," : "People's clicks"} from {period.from} to {period.to}.
      </p>
      <LoadError error={top.error} />
      {top.data && top.data.links.length === 0 && <p class="muted">No clicks in this period.</p>}
      {top.data && top.data.links.length > 0 && (
        <div class="overflow-auto" aria-busy={top.loading ? "true" : undefined}>
          <table class="top">
            <thead>
              <tr>
                <th scope="col">Slug</th>
                <th scope="col">Destination</th>
                <th scope="col" class="num">
                  Clicks
                </th>
              </tr>
            </thead>
            <tbody>
              {top.data.links.map((l) => (
                <tr key={l.slug} data-slug={l.slug}>
                  <td>
                    <a href={`#/links/${enc(l.slug)}`}>{l.slug}</a>
                  </td>
                  <td class="url">{l.url}</td>
                  <td class="num">{l.clicks}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/// `params`: the hash query, with the period (logic.ts, `periodOf`); `admin`: signed in with the
/// admin token, whose own links (made with it) these are.
export function Overview({ params = new URLSearchParams(), admin = false }: { params?: URLSearchParams; admin?: boolean }) {
  const [period, changePeriod] = usePeriod("#/overview", params);
  const stats = useLoad(() => get<Stats>(accountStats(period, "day")), [periodKey(period)]);
  const s = stats.data;
  return (
    <section>
      <h1 tabIndex={-1}>Overview</h1>
      <p class="muted">
        {admin
          ? "The clicks of the links made with the admin token, together. Another user's clicks are on their links' pages."
          : "The clicks of all your links together, each counted from the day it was made."}
      </p>
      <PeriodForm period={period} onChange={changePeriod} check={(p) => get<Stats>(accountStats(p, "day")).then(() => undefined)} loadError={stats.error} />
      <LoadError error={stats.error} />
      <div aria-busy={stats.loading ? "true" : undefined}>
        {s && (
          <>
            <dl class="totals" aria-label="Totals of the period">
              <div>
                <dt>Clicks</dt>
                <dd class="total-clicks">{s.total}</dd>
              </div>
              <div>
                <dt>Unique visitors</dt>
                <dd class="total-visitors">{s.unique_visitors ?? "unknown"}</dd>
              </div>
            </dl>
            <ClicksChart stats={s} />
          </>
        )}
      </div>
      <div class="breakdowns">
        {BREAKDOWNS.map(([g, label]) => (
          <Breakdown key={g} path={accountStats(period, g)} group={g} label={label} />
        ))}
      </div>
      <TopLinks period={period} />
    </section>
  );
}
