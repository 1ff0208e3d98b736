"""Change detection compares what the deployment sets, not what the Jobs API adds on its own."""

from deployment.plan import diff


def test_defaults_the_service_adds_are_not_changes():
    desired = {"name": "j", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}}]}
    returned = {
        "name": "j",
        "format": "MULTI_TASK",
        "email_notifications": {},
        "tasks": [
            {"task_key": "a", "run_if": "ALL_SUCCESS", "notebook_task": {"notebook_path": "/x", "source": "WORKSPACE"}}
        ],
    }
    assert diff(desired, returned) == []


def test_a_changed_value_is_named_by_its_path_and_task_key():
    desired = {
        "schedule": {"pause_status": "PAUSED"},
        "tasks": [
            {"task_key": "gold", "libraries": [{"whl": "/new.whl"}]},
            {"task_key": "bronze", "libraries": [{"whl": "/new.whl"}]},
        ],
    }
    returned = {
        "schedule": {"pause_status": "UNPAUSED"},
        "tasks": [
            {"task_key": "bronze", "libraries": [{"whl": "/new.whl"}]},
            {"task_key": "gold", "libraries": [{"whl": "/old.whl"}]},
        ],
    }
    assert diff(desired, returned) == ["schedule.pause_status", "tasks[gold].libraries[0].whl"]


def test_a_task_added_or_removed_is_a_change_of_the_list():
    desired = {"tasks": [{"task_key": "a"}, {"task_key": "b"}]}
    assert diff(desired, {"tasks": [{"task_key": "a"}]}) == ["tasks"]
    assert diff({"tasks": [{"task_key": "a"}]}, desired) == ["tasks"]


def test_a_missing_block_is_a_change():
    assert diff({"continuous": {"pause_status": "PAUSED"}}, {}) == ["continuous"]
