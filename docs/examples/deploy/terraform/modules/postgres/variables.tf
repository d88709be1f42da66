variable "name" {
  type        = string
  description = "Identifier for the instance and its companions."
}

variable "vpc_id" {
  type        = string
  description = "VPC the database lives in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets, at least two availability zones."
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Multi-AZ needs subnets in at least two availability zones."
  }
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect (the cluster's node or pod groups)."
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL major.minor; the major version picks the parameter-group family."
  default     = "17.6"
}

variable "instance_class" {
  type        = string
  description = "Instance size; db.r7g.large holds about 2,000 connections through a pooler."
  default     = "db.r7g.large"
}

variable "storage_gb" {
  type        = number
  description = "Initial gp3 storage in GiB."
  default     = 100
}

variable "max_storage_gb" {
  type        = number
  description = "Ceiling for storage autoscaling in GiB (RDS grows gp3 storage up to it)."
  default     = 400
}

variable "backup_retention_days" {
  type        = number
  description = "Point-in-time recovery window. Erasures are replayed after a restore from it."
  default     = 14
  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "Keep 7 to 35 days: RDS allows at most 35."
  }
}
