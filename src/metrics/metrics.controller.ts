import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Registry } from 'prom-client';
import { MetricsApiKey } from './metrics-api-key.decorator';
import { preferredFormat } from './exposition-format';
import { openMetricsText } from './metrics-registry';
import { MetricsSummary, MetricsSummaryBody } from './metrics-summary.service';

const JSON_SUMMARY = 'application/json';

/** `GET /metrics` (PROTOCOL §4): what Prometheus scrapes, in the format its `Accept` prefers. */
@ApiTags('metrics')
@Controller()
export class MetricsController {
  constructor(
    private readonly registry: Registry,
    private readonly summary: MetricsSummary,
  ) {}

  @MetricsApiKey()
  @Get('metrics')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Prometheus text by default; OpenMetrics when `Accept` prefers `application/openmetrics-text`; ' +
      'a JSON summary for `Accept: application/json`.',
  })
  @ApiProduces(Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE, JSON_SUMMARY)
  @ApiOkResponse({ description: 'The exposition, or the summary.' })
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    const format = preferredFormat(req.get('accept'));
    res.setHeader('Vary', 'Accept');
    if (format === 'json') {
      const body: MetricsSummaryBody = await this.summary.read();
      res.status(200).json(body);
      return;
    }
    const [contentType, text] =
      format === 'openmetrics'
        ? [Registry.OPENMETRICS_CONTENT_TYPE, await openMetricsText(this.registry)]
        : [Registry.PROMETHEUS_CONTENT_TYPE, await this.registry.metrics()];
    // Exactly this Content-Type (Prometheus 3 fails a scrape without a valid one): written with
    // end(), because Express's send() would re-order its parameters.
    res.status(200).setHeader('Content-Type', contentType);
    res.end(text);
  }
}
