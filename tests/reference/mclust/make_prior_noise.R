#!/usr/bin/env Rscript
# Reference table from R's mclust for a conjugate prior and a noise component together:
# mclustBIC(X, G, models, prior = priorControl(), initialization = list(noise = guess))
# on the noise data of make_noise.R (noise_data.csv, its guess in the column "noise").
#
# Regenerate (from the repository root; writes next to this script):
#
#   Rscript --vanilla tests/reference/mclust/make_prior_noise.R
#
# Made with R 4.2.2 and mclust 6.0.0. prior_noise_bic.csv: dataset, model, G, bic
# (mclust's sign; NA where mclust gives NA).

suppressPackageStartupMessages(library(mclust))

here <- local({
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else getwd()
})
data <- read.csv(file.path(here, "noise_data.csv"))
models <- c("EII", "VII", "EEI", "VVI", "EEE", "VVV")
rows <- list()
for (name in c("clusters2d", "iris4d")) {
  part <- data[data$dataset == name, ]
  cols <- grep("^x", names(part), value = TRUE)
  cols <- cols[colSums(is.na(part[, cols])) == 0]
  x <- as.matrix(part[, cols])
  guess <- part$noise == "TRUE"
  b <- mclustBIC(x, G = 1:3, modelNames = models, prior = priorControl(),
                 initialization = list(noise = guess))
  for (m in models) for (g in 1:3) {
    rows[[length(rows) + 1]] <- data.frame(dataset = name, model = m, G = g, bic = b[as.character(g), m])
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(here, "prior_noise_bic.csv"), row.names = FALSE)
