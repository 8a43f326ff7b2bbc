# One Cloud Run service per tier. Environment variable names are exactly those of the executor's
# configuration (src/config.ts, CONFIG_VARIABLES); test/infra checks that they stay so.
#
# Auth: Cloud Tasks attaches the invoker account's OIDC token. Tasks the executors create target
# PROBLEM_SERVICE (the next tier's URL) with that same URL as the token audience (as Cloud Tasks
# does when none is given) — which is the next tier's AUTH_AUDIENCE below. Clients enqueueing into
# the first tier must target the first tier's URL (output `tier_urls`) the same way. Pub/Sub pushes
# (pubsub.tf) carry the pusher account's token with the same URL as audience.

resource "google_cloud_run_v2_service" "tier" {
  for_each = local.tiers

  project             = var.project
  location            = var.region
  name                = each.value.name
  description         = "Executor tier ${each.value.number} of ${local.tier_count} (${var.name_prefix})."
  ingress             = var.ingress
  deletion_protection = var.deletion_protection
  labels              = merge(local.labels, { "executor-tier" = tostring(each.value.number) })

  template {
    service_account                  = google_service_account.runtime.email
    max_instance_request_concurrency = each.value.concurrency
    timeout                          = each.value.request_timeout

    scaling {
      # Scale to zero by default: an idle chain costs nothing in Cloud Run.
      min_instance_count = each.value.min_instances
      max_instance_count = each.value.max_instances
    }

    containers {
      # No command/args: the image's default command (Dockerfile CMD) is `node dist/cli.js serve`.
      image = var.image

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = each.value.cpu
          memory = each.value.memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      # --- this tier -----------------------------------------------------------------------------
      env {
        name  = "TIER"
        value = tostring(each.value.number)
      }
      env {
        name  = "MAX_ATTEMPTS"
        value = tostring(each.value.max_attempts)
      }
      env {
        name  = "EXECUTOR_QUEUE"
        value = google_cloud_tasks_queue.tier[each.key].id
      }
      env {
        name  = "GOOGLE_CLOUD_PROJECT"
        value = var.project
      }
      env {
        name  = "TASKS_LOCATION"
        value = var.region
      }

      # --- where results and failures go -----------------------------------------------------------
      env {
        name  = "NOTIFIER_QUEUE"
        value = google_cloud_tasks_queue.notifier.id
      }
      env {
        name  = "NOTIFIER_LOCATION"
        value = var.region
      }
      env {
        name  = "DEAD_LETTER_QUEUE"
        value = google_cloud_tasks_queue.dead_letter.id
      }
      env {
        name  = "DEAD_LETTER_URL"
        value = var.dead_letter.target_url
      }

      # The next tier; absent on the last tier, which notifies the failure instead of forwarding.
      dynamic "env" {
        for_each = each.value.next_queue == null ? [] : [
          { name = "PROBLEM_QUEUE", value = each.value.next_queue },
          { name = "PROBLEM_SERVICE", value = each.value.next_url },
        ]
        content {
          name  = env.value.name
          value = env.value.value
        }
      }

      # --- Pub/Sub (var.pubsub, pubsub.tf) ---------------------------------------------------------------
      # Every terminal outcome is also published to the outcomes topic.
      dynamic "env" {
        for_each = local.outcomes_topic == null ? [] : [
          { name = "NOTIFY_TOPIC", value = local.outcomes_topic },
        ]
        content {
          name  = env.value.name
          value = env.value.value
        }
      }
      # The push subscription feeding this tier; the executor checks its dead-letter policy at startup.
      dynamic "env" {
        for_each = each.value.subscription == null ? [] : [
          { name = "EXECUTOR_SUBSCRIPTION", value = each.value.subscription },
        ]
        content {
          name  = env.value.name
          value = env.value.value
        }
      }

      # --- identity of tasks, inbound auth --------------------------------------------------------------
      env {
        name  = "TASKS_SERVICE_ACCOUNT"
        value = google_service_account.invoker.email
      }
      # A tier fed by Pub/Sub also accepts the pusher account's tokens (the pushes' audience is the same URL).
      env {
        name  = "AUTH_ALLOWED_EMAILS"
        value = each.value.subscription == null ? google_service_account.invoker.email : "${google_service_account.invoker.email},${google_service_account.pusher[0].email}"
      }
      env {
        name  = "AUTH_AUDIENCE"
        value = each.value.url
      }

      # --- the work ------------------------------------------------------------------------------------
      dynamic "env" {
        for_each = each.value.worker_env
        content {
          name  = env.key
          value = env.value
        }
      }
      env {
        name  = "WORKER_TIMEOUT_SECONDS"
        value = tostring(each.value.worker_timeout_seconds)
      }
      dynamic "env" {
        for_each = var.notify_url == null ? [] : [var.notify_url]
        content {
          name  = "NOTIFY_URL"
          value = env.value
        }
      }
      env {
        name  = "LOG_LEVEL"
        value = var.log_level
      }

      startup_probe {
        initial_delay_seconds = 0
        period_seconds        = 2
        timeout_seconds       = 2
        failure_threshold     = 30
        http_get {
          path = "/health"
          port = 8080
        }
      }

      liveness_probe {
        period_seconds    = 30
        timeout_seconds   = 5
        failure_threshold = 3
        http_get {
          path = "/health"
          port = 8080
        }
      }
    }
  }

  lifecycle {
    # Cloud Build rolls new images out (cloudbuild.yaml); re-applying Terraform must not roll back.
    ignore_changes = [
      template[0].containers[0].image,
      client,
      client_version,
    ]
  }

  depends_on = [
    google_project_service.enabled,
    google_service_account_iam_member.runtime_acts_as_invoker,
  ]
}
