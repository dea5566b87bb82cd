"""The task board and task pages through the test client: who may do what, CSRF,
conflicts, escaping, overdue marking and French."""
from datetime import timedelta

import sqlalchemy as sa

from crisis_ct.tasks.models import MitigationTask
from crisis_ct.timeutil import utcnow
from tests.web.conftest import csrf_token, post_action, site_task_id

HOSTILE_COMMENT = "<img src=x onerror=alert(1)>"


def _status(database, task_id):
    with database.session() as session:
        return session.get(MitigationTask, task_id).status


def _board_card(page: str, task_id: int) -> str:
    start = page.rindex("<article", 0, page.index(f'data-task-id="{task_id}"'))
    return page[start:page.index("</article>", start)]


def test_someone_not_signed_in_is_sent_to_the_login(client, scored):
    response = client.get("/tasks")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/tasks")


def test_a_viewer_sees_the_board_without_site_tasks(signed_in, database):
    """domain.md §4.3: site-level tasks are for experts and coordinators."""
    page = signed_in("viewer@example.org").get("/tasks").get_data(as_text=True)
    task_id = site_task_id(database)
    assert f'data-task-id="{task_id}"' not in page and "/claim" not in page
    assert f'data-task-id="{task_id}"' in signed_in("b@example.org").get("/tasks").get_data(as_text=True)


def test_an_expert_sees_a_claim_button_and_a_viewer_cannot_open_the_claim_form(signed_in, database):
    task_id = site_task_id(database)
    assert f"/tasks/{task_id}/claim" in _board_card(signed_in("a@example.org").get("/tasks").get_data(as_text=True),
                                                   task_id)
    assert signed_in("viewer@example.org").get(f"/tasks/{task_id}/claim").status_code == 403


def test_an_expert_claims_from_the_board_and_returns_to_it_with_a_message(signed_in, database):
    expert = signed_in("a@example.org")
    task_id = site_task_id(database)
    response = post_action(expert, task_id, "claim", next_url="/tasks?priority=P1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/tasks?priority=P1"
    assert _status(database, task_id) == "claimed"
    page = expert.get("/tasks?priority=P1").get_data(as_text=True)
    assert "You claimed this task." in page
    assert "a@example.org".split("@")[0] in _board_card(page, task_id)


def test_the_claim_shows_on_another_experts_board_with_holder_and_time_left(signed_in, database):
    task_id = site_task_id(database)
    post_action(signed_in("a@example.org"), task_id, "claim")
    card = _board_card(signed_in("b@example.org").get("/tasks").get_data(as_text=True), task_id)
    assert 'data-status="claimed"' in card
    assert "Held by" in card and ">a <" in card.replace("</dd>", " <")
    assert "claim ends in" in card


def test_a_second_claim_is_a_clear_conflict_message_not_a_crash(signed_in, database):
    task_id = site_task_id(database)
    post_action(signed_in("a@example.org"), task_id, "claim")
    other = signed_in("b@example.org")
    response = post_action(other, task_id, "claim")
    assert response.status_code == 303
    page = other.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash flash-conflict"' in page
    assert "the task is now Claimed, held by a until" in page


def test_an_action_without_the_csrf_token_is_refused(signed_in, database):
    task_id = site_task_id(database)
    response = signed_in("a@example.org").post(f"/tasks/{task_id}/claim", data={})
    assert response.status_code == 400
    assert _status(database, task_id) == "open"


def test_a_viewer_posting_verify_gets_the_403_page(signed_in, database):
    viewer = signed_in("viewer@example.org")
    task_id = site_task_id(database)
    response = post_action(viewer, task_id, "verify")
    assert response.status_code == 403
    assert "You do not have access to this page." in response.get_data(as_text=True)


def test_an_expert_may_not_verify_even_a_done_task(signed_in, database):
    task_id = site_task_id(database)
    expert = signed_in("a@example.org")
    for action in ("claim", "progress", "complete"):
        post_action(expert, task_id, action)
    assert _status(database, task_id) == "done"
    assert post_action(expert, task_id, "verify").status_code == 403
    assert _status(database, task_id) == "done"


def test_the_coordinator_verifies_done_work(signed_in, database):
    task_id = site_task_id(database)
    expert = signed_in("a@example.org")
    for action in ("claim", "progress", "complete"):
        post_action(expert, task_id, action)
    coordinator = signed_in("coord@example.org")
    assert f"/tasks/{task_id}/verify" in coordinator.get(f"/tasks/{task_id}").get_data(as_text=True)
    post_action(coordinator, task_id, "verify", {"comment": "Checked on site."})
    assert _status(database, task_id) == "verified"


def test_the_coordinator_assigns_to_an_expert_of_the_operation(signed_in, database):
    task_id = site_task_id(database)
    coordinator = signed_in("coord@example.org")
    form = coordinator.get(f"/tasks/{task_id}/assign").get_data(as_text=True)
    with database.session() as session:
        from crisis_ct.accounts.models import User
        expert_b = session.scalar(sa.select(User.id).where(User.email == "b@example.org"))
    assert f'<option value="{expert_b}">' in form
    post_action(coordinator, task_id, "assign", {"assignee": str(expert_b)})
    with database.session() as session:
        task = session.get(MitigationTask, task_id)
        assert (task.status, task.claimed_by_user_id) == ("claimed", expert_b)


def test_assigning_to_someone_outside_the_operation_is_refused(signed_in, database):
    task_id = site_task_id(database)
    response = post_action(signed_in("coord@example.org"), task_id, "assign", {"assignee": "99999"})
    assert response.status_code == 400
    assert _status(database, task_id) == "open"


def test_a_hostile_comment_is_shown_escaped_in_the_history(signed_in, database):
    task_id = site_task_id(database)
    expert = signed_in("a@example.org")
    post_action(expert, task_id, "claim", {"comment": HOSTILE_COMMENT})
    page = expert.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert HOSTILE_COMMENT not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_an_overdue_task_stands_out_by_class_icon_and_word(signed_in, database):
    task_id = site_task_id(database)
    with database.session() as session:
        session.get(MitigationTask, task_id).due_at = utcnow() - timedelta(days=2)
    card = _board_card(signed_in("b@example.org").get("/tasks").get_data(as_text=True), task_id)
    assert " overdue" in card.split(">", 1)[0]
    assert "overdue-icon" in card and "Overdue" in card


def test_a_task_not_yet_due_is_not_marked_overdue(signed_in, database):
    task_id = site_task_id(database)
    with database.session() as session:
        session.get(MitigationTask, task_id).due_at = utcnow() + timedelta(days=2)
    card = _board_card(signed_in("b@example.org").get("/tasks").get_data(as_text=True), task_id)
    assert "Overdue" not in card


def test_titles_and_labels_are_french_in_french(signed_in, database):
    expert = signed_in("a@example.org")
    expert.post("/language", data={"lang": "fr", "next": "/tasks", "csrf_token": csrf_token(expert, "/tasks")})
    task_id = site_task_id(database)
    with database.session() as session:
        title_fr = session.get(MitigationTask, task_id).title["fr"]
    page = expert.get("/tasks").get_data(as_text=True)
    assert title_fr.replace("'", "&#39;") in page
    assert "Tâches d" in page and "Ouvertes" in page and "Réserver" in page


def test_the_priority_filter_keeps_only_that_priority(signed_in):
    page = signed_in("b@example.org").get("/tasks?priority=P3").get_data(as_text=True)
    assert 'priority-P3' in page
    assert 'class="task-card priority-P1' not in page


def test_one_status_past_the_last_page_shows_the_last_page(signed_in):
    page = signed_in("b@example.org").get("/tasks?status=open&page=999").get_data(as_text=True)
    assert 'data-status="open"' in page
    assert "No tasks." not in page


def test_near_a_site_orders_by_distance_and_shows_it(signed_in):
    page = signed_in("b@example.org").get("/tasks?near_site=S2&within_km=500").get_data(as_text=True)
    assert " km" in page


def test_another_operations_task_is_a_404(signed_in, seed, database):
    seed.operation("other")
    seed.member("other@example.org", "coordinator", "other")
    task_id = site_task_id(database)
    assert signed_in("other@example.org").get(f"/tasks/{task_id}").status_code == 404


def test_a_claim_without_the_needed_expertise_says_who_can_help(signed_in, seed, database):
    seed.member("novice@example.org", "expert", "op1", expertise=())
    novice = signed_in("novice@example.org")
    task_id = site_task_id(database)
    response = post_action(novice, task_id, "claim")
    page = novice.get(response.headers["Location"]).get_data(as_text=True)
    assert "A coordinator can assign it to you." in page
    assert _status(database, task_id) == "open"


def test_a_viewer_cannot_open_a_held_site_task(signed_in, database):
    task_id = site_task_id(database)
    post_action(signed_in("a@example.org"), task_id, "claim")
    viewer_page = signed_in("viewer@example.org").get(f"/tasks/{task_id}")
    coordinator_page = signed_in("coord@example.org").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert viewer_page.status_code == 403 and "a@example.org" not in viewer_page.get_data(as_text=True)
    assert 'class="task-holder">a <' in coordinator_page


def test_an_area_task_page_lists_the_sites_that_triggered_it(signed_in, database):
    from crisis_ct.tasks.models import TaskSite

    with database.session() as session:
        # M01, the referral pathway: one task for the district, S1 among its sites.
        task_id = session.scalar(sa.select(MitigationTask.id).where(MitigationTask.scope == "admin_area",
                                                                    MitigationTask.rule_id == "M01")
                                 .join(TaskSite, TaskSite.task_id == MitigationTask.id).limit(1))
    page = signed_in("a@example.org").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'class="task-sites"' in page and "/sites/S1" in page and "Camp one" in page
    # The site's board lists the area tasks that name it, with their site count.
    board = signed_in("a@example.org").get("/tasks?site=S1").get_data(as_text=True)
    assert 'class="task-sites-count"' in _board_card(board, task_id)
