/**
 * English: the forecast ("tomorrow" view) and predicted_cold. Merged in ../en.ts; typed against zh-CN/forecast.ts, so a missing or extra key fails type-checking.
 */
import type { forecast as zh } from '../zh-CN/forecast.ts';

export const forecast: Record<keyof typeof zh, string> = {
  // Issue #20: an order opened from a forecast, and how the forecast ended.
  'prediction.predicted': 'Forecast order: the resident is not cold yet',
  'prediction.confirmed': 'Forecast confirmed: handled as a repair order',
  'prediction.avoided': 'Forecast did not happen',
  'tomorrow.toggleNow': 'Now',
  'tomorrow.toggleTomorrow': 'Tomorrow',
  'tomorrow.title': 'Tomorrow: predicted cold risk',
  'tomorrow.loading': 'Computing forecasts…',
  'tomorrow.horizon': 'Next {hours} h.',
  'tomorrow.issued': 'Weather forecast issued {at}.',
  'tomorrow.noForecast': 'No weather forecast stored: outdoor temperature held at its last value.',
  'tomorrow.level.high': 'Likely cold',
  'tomorrow.level.medium': 'Possibly cold',
  'tomorrow.level.low': 'Expected warm',
  'tomorrow.level.unknown': 'Not enough data',
  'tomorrow.models': '{ready} apartments with a fitted model, {missing} without enough data',
  'tomorrow.noneAtRisk': 'No apartment at risk.',
  'tomorrow.pick': 'Select a station to see its apartments at risk.',
  'tomorrow.apartment': 'Apartment',
  'tomorrow.probability': 'Chance',
  'tomorrow.lowest': 'Lowest',
  'tomorrow.when': 'Around',
  'tomorrow.temp': '{c} ± {sigma} °C',
};
