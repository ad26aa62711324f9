import { Channel } from "../gen/mpos/v1/events_pb";
import type { MenuItemView } from "../gen/mpos/v1/pos_pb";

/** An item's price on a channel: the channel's own price if the menu sets one, else the base. */
export function priceOn(view: MenuItemView, channel: Channel): bigint {
  const item = view.item;
  if (!item) return 0n;
  return item.channelPrices.find((p) => p.channel === channel)?.price ?? item.price;
}

/** The counter channel's price of an item. */
export function counterPrice(view: MenuItemView): bigint {
  return priceOn(view, Channel.COUNTER);
}
