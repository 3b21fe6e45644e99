//! Issue 15, point 4: the sign-in limits hold under concurrency. An attempt is reserved
//! before its password is hashed, so a burst of parallel guesses cannot all be evaluated;
//! quick-pair counts against the same limits.

use futures_util::future::join_all;
use serde_json::json;

use crate::common::*;

/// Sends `count` wrong guesses for the setup admin at once, half of them through quick-pair
/// when `mixed`; answers the statuses.
async fn parallel_wrong_guesses(server: &TestServer, count: usize, mixed: bool) -> Vec<u16> {
    let guesses = (0..count).map(|i| async move {
        let (path, body) = if mixed && i % 2 == 1 {
            (
                "/api/v1/agents/quick-pair",
                json!({ "login": ADMIN_EMAIL, "password": format!("wrong guess {i}") }),
            )
        } else {
            (
                "/api/v1/auth/login",
                json!({ "email": ADMIN_EMAIL, "password": format!("wrong guess {i}") }),
            )
        };
        let res = client().post(server.url(path)).json(&body).send().await.unwrap();
        res.status().as_u16()
    });
    join_all(guesses).await
}

fn evaluated_and_refused(statuses: &[u16]) -> (usize, usize) {
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(evaluated + refused, statuses.len(), "unexpected statuses: {statuses:?}");
    (evaluated, refused)
}

#[tokio::test]
async fn forty_parallel_wrong_sign_ins_against_one_account_evaluate_at_most_five() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let statuses = parallel_wrong_guesses(&server, 40, false).await;
    let (evaluated, refused) = evaluated_and_refused(&statuses);
    assert!(evaluated <= 5, "{evaluated} guesses evaluated: {statuses:?}");
    assert!(refused >= 35, "{statuses:?}");
    // The account stays locked for the right password too.
    let res = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn quick_pair_and_sign_in_share_the_reserved_attempts() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let statuses = parallel_wrong_guesses(&server, 40, true).await;
    let (evaluated, _) = evaluated_and_refused(&statuses);
    assert!(evaluated <= 5, "{evaluated} guesses evaluated: {statuses:?}");
}

#[tokio::test]
async fn a_successful_sign_in_gives_its_reservation_back() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    // More successes than either limit: none of them may count as a failure.
    for _ in 0..25 {
        let res = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(res.status(), 200);
    }
    let res = server.login(ADMIN_EMAIL, "wrong").await;
    assert_eq!(res.status(), 401);
}
