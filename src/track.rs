//! The shell of click analytics: recording a click after a redirect is decided, and applying
//! the click queue to the D1 roll-up.
//!
//! A click is derived from the request in the fetch handler ([`click_of`]: classes, hashes and
//! hosts only, see `analytics`), written as one Analytics Engine data point (a synchronous,
//! fire-and-forget call) and sent as one small queue message inside `wait_until`, so the
//! response never waits for either. The queue consumer ([`consume`]) applies batches of up to
//! 100 clicks to the roll-up exactly once.

use serde::Serialize;
use worker::{
    console_error, AnalyticsEngineDataPointBuilder, Context, Env, MessageBatch, MessageBuilder,
    MessageExt, QueueContentType, Request,
};

use crate::analytics::{classify_user_agent, day_of, opted_out, referrer_host, visitor_id, Click};
use crate::platform::{
    analytics_salt, click_queue, click_rollup_enabled, clicks_dataset, now, rollup,
};

/// Cloudflare's bot score (1–99) below which a request counts as automated.
const BOT_SCORE_MAX: u32 = 29;

/// The click a redirect of `slug` (owned by `owner`) records for this request.
pub fn click_of(req: &Request, env: &Env, slug: &str, owner: &str) -> Click {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let ua = header("User-Agent").unwrap_or_default();
    let mut agent = classify_user_agent(&ua);
    let cf = req.cf();
    let flagged_by_cloudflare = cf
        .and_then(|cf| cf.bot_management())
        .is_some_and(|bm| bm.verified_bot() || bm.score() <= BOT_SCORE_MAX);
    if flagged_by_cloudflare && !agent.bot {
        agent.bot = true;
        agent.device = "bot";
        agent.browser = "Bot";
    }
    let day = day_of(now());
    let visitor = match (analytics_salt(env), header("CF-Connecting-IP")) {
        (Some(salt), Some(ip))
            if !opted_out(header("DNT").as_deref(), header("Sec-GPC").as_deref()) =>
        {
            visitor_id(&ip, &ua, &salt, &day)
        }
        _ => String::new(),
    };
    Click {
        slug: slug.to_owned(),
        owner: owner.to_owned(),
        day,
        country: cf
            .and_then(|cf| cf.country())
            .filter(|c| c.len() == 2 && c != "XX" && c != "T1")
            .unwrap_or_default(),
        referrer: referrer_host(header("Referer").as_deref()),
        device: agent.device.to_owned(),
        browser: agent.browser.to_owned(),
        os: agent.os.to_owned(),
        visitor,
        bot: agent.bot,
    }
}

/// Records a click: the Analytics Engine data point now (it does not block), the queue
/// message in the background. Failures are logged; a redirect never fails for analytics.
pub fn record(env: &Env, ctx: &Context, click: Click) {
    if let Ok(dataset) = clicks_dataset(env) {
        let point = AnalyticsEngineDataPointBuilder::new()
            .indexes([click.slug.as_str()])
            .blobs([
                click.country.as_str(),
                click.referrer.as_str(),
                click.device.as_str(),
                click.browser.as_str(),
                click.os.as_str(),
                click.visitor.as_str(),
                click.owner.as_str(),
            ])
            .add_double(1)
            .build();
        if let Err(e) = dataset.write_data_point(&point) {
            console_error!("analytics data point for {}: {e}", click.slug);
        }
    }
    if !click_rollup_enabled(env) {
        return;
    }
    let Ok(queue) = click_queue(env) else {
        return;
    };
    ctx.wait_until(async move {
        let Ok(body) = serde_json::to_string(&click) else {
            return;
        };
        let message = MessageBuilder::new(body)
            .content_type(QueueContentType::Text)
            .build();
        if let Err(e) = queue.send(message).await {
            console_error!("click queue send for {}: {e}", click.slug);
        }
    });
}

/// A consumer's report, logged as one JSON line.
#[derive(Debug, Default, Serialize)]
struct ConsumeSummary {
    event: &'static str,
    messages: usize,
    applied: usize,
    unreadable: usize,
    error: Option<String>,
}

/// Applies a batch of click messages to the roll-up, exactly once (see `store::rollup`).
/// Unreadable messages are acknowledged and dropped; on a D1 failure the whole batch is
/// retried (already counted ids are skipped then).
pub async fn consume(batch: MessageBatch<String>, env: &Env) {
    let mut summary = ConsumeSummary {
        event: "click_rollup",
        ..ConsumeSummary::default()
    };
    let messages = match batch.messages() {
        Ok(m) => m,
        Err(e) => {
            console_error!("click batch unreadable: {e}");
            batch.retry_all();
            return;
        }
    };
    summary.messages = messages.len();
    let clicks: Vec<(String, Click)> = messages
        .iter()
        .filter_map(|m| {
            let click = serde_json::from_str::<Click>(m.body()).ok();
            if click.is_none() {
                summary.unreadable += 1;
            }
            click.map(|c| (m.id(), c))
        })
        .collect();
    let token = nanoid::nanoid!(16);
    let result = match rollup(env) {
        Ok(r) => r.apply(&clicks, &token).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            summary.applied = clicks.len();
            batch.ack_all();
            worker::console_log!("{}", serde_json::to_string(&summary).unwrap_or_default());
        }
        Err(e) => {
            summary.error = Some(e.to_string());
            console_error!("{}", serde_json::to_string(&summary).unwrap_or_default());
            batch.retry_all();
        }
    }
}
