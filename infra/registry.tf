# Artifact Registry repository for the executor image (pushed by Cloud Build, pulled by Cloud Run).
resource "google_artifact_registry_repository" "images" {
  project       = var.project
  location      = var.region
  repository_id = var.repository_id
  format        = "DOCKER"
  description   = "Executor container images (tagged with the commit SHA by cloudbuild.yaml)."

  depends_on = [google_project_service.enabled]
}
