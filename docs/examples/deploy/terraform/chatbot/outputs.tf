output "service_name" {
  description = "In-cluster DNS name of the API service."
  value       = "${kubernetes_service_v1.api.metadata[0].name}.${var.namespace}.svc"
}

output "deployment_name" {
  description = "Name of the API Deployment."
  value       = kubernetes_deployment_v1.api.metadata[0].name
}
