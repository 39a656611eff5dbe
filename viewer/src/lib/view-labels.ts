/** What a view's neuron colours show, in words for legends and tooltips, from the vocabulary. */
import { quantity, VIEW_SPECS, type View } from '$core/format/quantities';

export function viewQuantityLabel(view: View, forProbe: boolean): string {
  const spec = VIEW_SPECS[view];
  const shown = quantity(forProbe && quantity(spec.quantity).probeTwin ? quantity(spec.quantity).probeTwin! : spec.quantity);
  return spec.encoding === 'magnitude' ? `|${shown.label}|` : shown.label;
}
