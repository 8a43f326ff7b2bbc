# The chain, computed once: everything per tier (queue, service, IAM, outputs) iterates over
# local.tiers, keyed "1", "2", … in chain order.
locals {
  tier_count = length(var.tiers)

  # Deterministic Cloud Run URLs (https://SERVICE-PROJECT_NUMBER.REGION.run.app) are known before
  # the services exist, so tier N can name tier N+1's URL and its own OIDC audience without a
  # dependency cycle between services.
  url_suffix = "${data.google_project.this.number}.${var.region}.run.app"

  queue_prefix = "projects/${var.project}/locations/${var.region}/queues"

  tiers = {
    for i, t in var.tiers : tostring(i + 1) => {
      number = i + 1
      name   = "${var.name_prefix}-tier-${i + 1}"
      queue  = "${local.queue_prefix}/${var.name_prefix}-tier-${i + 1}"
      url    = "https://${var.name_prefix}-tier-${i + 1}-${local.url_suffix}"

      # The next tier, or null on the last tier (which notifies instead of forwarding).
      next_queue = i + 1 < local.tier_count ? "${local.queue_prefix}/${var.name_prefix}-tier-${i + 2}" : null
      next_url   = i + 1 < local.tier_count ? "https://${var.name_prefix}-tier-${i + 2}-${local.url_suffix}" : null

      # The push subscription feeding this tier (EXECUTOR_SUBSCRIPTION), or null when Pub/Sub does not
      # feed it (pubsub.tf creates it from this).
      subscription = var.pubsub.enabled && contains(var.pubsub.tiers, i + 1) ? "projects/${var.project}/subscriptions/${var.name_prefix}-tier-${i + 1}-push" : null

      max_attempts = t.max_attempts
      # The queue must allow more attempts than the executor's budget: after the last budgeted
      # attempt fails, a failed handoff is answered 503 and must be redelivered to retry it.
      # -1 is unlimited; otherwise the margin is handoff_retries extra deliveries.
      queue_max_attempts = t.handoff_retries == null ? -1 : t.max_attempts + t.handoff_retries

      max_dispatches_per_second = t.max_dispatches_per_second
      max_concurrent_dispatches = t.max_concurrent_dispatches
      min_backoff               = t.min_backoff
      max_backoff               = t.max_backoff
      max_doublings             = t.max_doublings

      min_instances          = t.min_instances
      max_instances          = t.max_instances
      concurrency            = t.concurrency
      worker_timeout_seconds = t.worker_timeout_seconds
      request_timeout        = "${t.worker_timeout_seconds + 60}s"
      cpu                    = t.cpu
      memory                 = t.memory

      # Exactly one of WORKER_MODULE / WORKER_URL / WORKER_COMMAND, from the tier or the default.
      worker_env = {
        for k, v in {
          WORKER_MODULE  = t.worker != null ? t.worker.module : var.worker.module
          WORKER_URL     = t.worker != null ? t.worker.url : var.worker.url
          WORKER_COMMAND = t.worker != null ? t.worker.command : var.worker.command
        } : k => v if v != null
      }
    }
  }

  notifier_queue    = "${local.queue_prefix}/${var.name_prefix}-${var.notifier.name}"
  dead_letter_queue = "${local.queue_prefix}/${var.name_prefix}-${var.dead_letter.name}"

  # Labels on every service; cloudbuild.yaml does not need them, but they let
  # `gcloud run services list --filter=labels.executor-chain=PREFIX` find the whole chain.
  labels = {
    app              = "executor"
    "executor-chain" = var.name_prefix
  }
}
