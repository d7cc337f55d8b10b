//! `DaySalt`: one Durable Object per UTC day (named by the day, binding `DAY_SALTS`), the only
//! place where that day's own visitor-id salt is made, when `ANALYTICS_SALT` is not set. The
//! Worker asks it through `store::day_salt::ask`.
//!
//! Why an object and not "write KV if absent": KV has no compare-and-set and is only eventually
//! consistent between locations, so two isolates that both read "absent" would each write (and
//! read back) their own salt, and count one visitor twice for the rest of the day. An object's
//! requests run one at a time and its storage is strongly consistent, so the first request of
//! the day makes the salt and every later one, from anywhere, gets the same. The object then
//! writes it to KV (`analytics:salt:<day>`), the copy isolates read: it is the only writer of
//! that key and writes only the salt it holds, so KV can lag but never disagree.
//!
//! Both copies are gone two days after the day's midnight (`analytics::day_salt_expires_at`):
//! the KV key by its expiration, the object's storage by an alarm. Nothing exports the salt.
//!
//! What it costs a redirect: nothing before the response (`track` asks only in `waitUntil`,
//! and only when its isolate does not hold today's salt and KV had none).

use std::cell::Cell;

use worker::{
    console_error, durable_object, DurableObject, Env, Request, Response, Result, State, Storage,
};

use crate::analytics::{day_salt_expires_at, is_day};
use crate::app::kv;
use crate::random;

const SALT_KEY: &str = "salt";
/// 43 characters of 62: over 256 bits.
const SALT_LEN: usize = 43;
const SALT_ALPHABET: [char; 62] = [
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S',
    'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l',
    'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '0', '1', '2', '3', '4',
    '5', '6', '7', '8', '9',
];

#[durable_object]
pub struct DaySalt {
    state: State,
    env: Env,
    /// Whether this instance has written its salt to KV: later requests (from isolates whose
    /// KV read ran before that write reached them) do not write it again.
    in_kv: Cell<bool>,
}

impl DurableObject for DaySalt {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            in_kv: Cell::new(false),
        }
    }

    /// `GET /<day>` → the day's salt, made on the first request.
    async fn fetch(&self, req: Request) -> Result<Response> {
        let path = req.path();
        let day = path.trim_start_matches('/');
        let Some(expires_at) = day_salt_expires_at(day).filter(|_| is_day(day)) else {
            return Response::error("not a day", 400);
        };
        let storage = self.state.storage();
        // One request at a time through the read-or-make, so a day never gets two salts.
        // One request at a time through the read-or-make, so a day never gets two salts. The
        // block itself never fails (a rejected one would reset the object): its result does.
        let made = self
            .state
            .block_concurrency_while(async move {
                Ok::<_, worker::Error>(salt_of_the_day(&storage, expires_at).await)
            })
            .await
            .and_then(|made| made);
        let (salt, created) = match made {
            Ok(made) => made,
            Err(e) => {
                console_error!("day salt {day}: {e}");
                return Response::error("day salt unavailable", 500);
            }
        };
        if created || !self.in_kv.get() {
            match kv(&self.env) {
                Ok(kv) => match kv.put_day_salt_until(day, &salt, expires_at).await {
                    Ok(()) => self.in_kv.set(true),
                    // Isolates still get the salt from here; KV is only the cheap copy.
                    Err(e) => console_error!("day salt {day} to KV: {e}"),
                },
                Err(e) => console_error!("day salt {day} to KV: {e}"),
            }
        }
        Response::ok(salt)
    }

    /// Two days after the day began: the salt goes.
    async fn alarm(&self) -> Result<Response> {
        self.state.storage().delete_all().await?;
        Response::ok("")
    }
}

/// The stored salt, or a new one (stored, with the alarm that drops it at `expires_at`);
/// `true` when it was made now.
async fn salt_of_the_day(storage: &Storage, expires_at: u64) -> Result<(String, bool)> {
    if let Some(salt) = storage.get::<String>(SALT_KEY).await? {
        if !salt.is_empty() {
            return Ok((salt, false));
        }
    }
    let salt = random::token(SALT_LEN, &SALT_ALPHABET)
        .map_err(|e| worker::Error::RustError(e.to_string()))?;
    storage.put(SALT_KEY, &salt).await?;
    storage
        .set_alarm(expires_at as i64 * 1000 - now_ms())
        .await?;
    Ok((salt, true))
}

fn now_ms() -> i64 {
    crate::app::now().as_millis() as i64
}
