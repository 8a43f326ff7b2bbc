# Cloud Tasks queues: one per tier, the notifier queue and the (paused) dead-letter queue.
# Queue names cannot be reused for about 7 days after deletion; keep name_prefix stable.

resource "google_cloud_tasks_queue" "tier" {
  for_each = local.tiers

  project  = var.project
  location = var.region
  name     = each.value.name

  rate_limits {
    max_dispatches_per_second = each.value.max_dispatches_per_second
    max_concurrent_dispatches = each.value.max_concurrent_dispatches
  }

  retry_config {
    # Derived from the tier's MAX_ATTEMPTS (see locals.tf): -1 or max_attempts + handoff_retries,
    # never equal to the budget, so a task whose handoff failed is redelivered instead of dropped.
    max_attempts       = each.value.queue_max_attempts
    max_retry_duration = "0s"
    min_backoff        = each.value.min_backoff
    max_backoff        = each.value.max_backoff
    max_doublings      = each.value.max_doublings
  }

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_tasks_queue" "notifier" {
  project  = var.project
  location = var.region
  name     = "${var.name_prefix}-${var.notifier.name}"

  rate_limits {
    max_dispatches_per_second = var.notifier.max_dispatches_per_second
    max_concurrent_dispatches = var.notifier.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = var.notifier.max_attempts
    max_retry_duration = "0s"
    min_backoff        = var.notifier.min_backoff
    max_backoff        = var.notifier.max_backoff
    max_doublings      = var.notifier.max_doublings
  }

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_tasks_queue" "dead_letter" {
  project  = var.project
  location = var.region
  name     = "${var.name_prefix}-${var.dead_letter.name}"

  # Paused: undecodable bodies wait here (up to the 31-day task retention) for a human.
  desired_state = "PAUSED"

  retry_config {
    # Unlimited, so tasks are never dropped by retry limits should the queue be resumed.
    max_attempts = -1
  }

  depends_on = [google_project_service.enabled]
}
