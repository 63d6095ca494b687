import { ConveneError } from '../errors.js';
import { initPublisher as initBrowserPublisher } from './browser/index.js';
import type { Publisher } from './browser/Publisher.js';
import type { Completion, PublisherProperties, TargetElement } from './browser/types.js';
import { NodePublisher, type NodePublisherProperties } from './node/NodePublisher.js';
import { hasBrowserMedia } from './peer.js';

/**
 * `OT.initPublisher()` in either runtime. In a browser: capture the camera and microphone (or a
 * screen) and show the self-view. In Node (no RTCPeerConnection in a page): a {@link NodePublisher}
 * with synthetic VP8/Opus sources; `target` is ignored and the properties are {@link NodePublisherProperties}.
 *
 * @example
 * const publisher = OT.initPublisher('publisher', { name: "Bob's stream" }, (err) => {
 *   if (!err) session.publish(publisher);
 * });
 */
export function initAnyPublisher(
  target?: TargetElement | PublisherProperties | NodePublisherProperties,
  properties?: PublisherProperties | NodePublisherProperties | Completion,
  completionHandler?: Completion,
): Publisher | NodePublisher {
  if (hasBrowserMedia()) {
    return initBrowserPublisher(target as TargetElement | PublisherProperties, properties as PublisherProperties | Completion, completionHandler);
  }
  if (typeof properties === 'function') return initAnyPublisher(target, undefined, properties);
  const props = (target !== null && typeof target === 'object' ? target : properties) as NodePublisherProperties | undefined;
  let publisher: NodePublisher;
  try {
    publisher = new NodePublisher(props ?? {});
  } catch (err) {
    if (completionHandler) {
      queueMicrotask(() => completionHandler(err as ConveneError));
      // A destroyed placeholder keeps the reference's "always returns a Publisher" shape.
      const placeholder = new NodePublisher({});
      placeholder.destroy();
      return placeholder;
    }
    throw err;
  }
  if (completionHandler) queueMicrotask(() => completionHandler());
  return publisher;
}
